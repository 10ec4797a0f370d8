"""Every WebSocket URL of the project, and the background channels for `runworker`.

Each app lists its own in <app>/routing.py.
"""

from django.urls import re_path

{% if cookiecutter.use_chat == "y" -%}
from chat.routing import websocket_urlpatterns as chat_urlpatterns
{% endif -%}
{% if cookiecutter.use_game == "y" -%}
from game.routing import websocket_urlpatterns as game_urlpatterns
{% endif -%}
{% if cookiecutter.use_notifications == "y" -%}
from notifications.routing import channel_routes as notifications_channel_routes
from notifications.routing import websocket_urlpatterns as notifications_urlpatterns
{% endif -%}
from realtime.consumers import NoRouteConsumer

websocket_urlpatterns = [
    # Each app lists its own consumers in <app>/routing.py.
{%- if cookiecutter.use_chat == "y" %}
    *chat_urlpatterns,
{%- endif %}
{%- if cookiecutter.use_notifications == "y" %}
    *notifications_urlpatterns,
{%- endif %}
{%- if cookiecutter.use_game == "y" %}
    *game_urlpatterns,
{%- endif %}
    re_path(r"", NoRouteConsumer.as_asgi()),  # last: any other path is refused cleanly
]

# channel name -> consumer, for `manage.py runworker <channel>`
channel_routes = {
    # Each app lists its own background channels in <app>/routing.py.
{%- if cookiecutter.use_notifications == "y" %}
    **notifications_channel_routes,
{%- endif %}
}
