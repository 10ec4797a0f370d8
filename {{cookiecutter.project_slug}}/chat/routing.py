from django.urls import path

from . import consumers

websocket_urlpatterns = [
    path("ws/chat/", consumers.LobbyConsumer.as_asgi()),
    path("ws/chat/<slug:slug>/", consumers.RoomConsumer.as_asgi()),
]
