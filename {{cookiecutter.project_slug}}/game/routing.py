from django.urls import path

from . import consumers

websocket_urlpatterns = [
    path("ws/game/", consumers.LobbyConsumer.as_asgi()),
    path("ws/game/<id:game_id>/", consumers.GameConsumer.as_asgi()),
]
