from django.urls import path

from . import views

app_name = "chat"

urlpatterns = [
    path("", views.room_list, name="rooms"),
    path("open/", views.open_room, name="open"),
    path("<slug:slug>/", views.room_detail, name="room"),
]
