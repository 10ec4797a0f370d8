from django.contrib import admin

from .models import Game, Move


class MoveInline(admin.TabularInline):
    model = Move
    extra = 0
    readonly_fields = ["number", "player", "move", "created_at"]
    can_delete = False


@admin.register(Game)
class GameAdmin(admin.ModelAdmin):
    list_display = ["id", "ruleset", "first_player", "second_player", "status", "winner", "version"]
    list_filter = ["ruleset", "status"]
    search_fields = ["first_player__username", "second_player__username"]
    list_select_related = ["first_player", "second_player", "winner"]
    readonly_fields = ["state", "version"]
    inlines = [MoveInline]
