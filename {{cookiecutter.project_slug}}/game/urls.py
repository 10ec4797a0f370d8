from django.urls import path

from . import views

app_name = "game"

urlpatterns = [
    path("", views.lobby, name="lobby"),
    path("new/", views.create, name="create"),
    path("<id:game_id>/", views.detail, name="detail"),
    path("<id:game_id>/join/", views.join, name="join"),
]
