from django.db import migrations, models


def mark_system_messages(apps, schema_editor):
    # Until now a message without an author was the server's.
    Message = apps.get_model("chat", "Message")
    Message.objects.filter(author__isnull=True).update(system=True)


class Migration(migrations.Migration):
    dependencies = [
        ("chat", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="message",
            name="system",
            field=models.BooleanField(default=False, editable=False),
        ),
        migrations.RunPython(mark_system_messages, migrations.RunPython.noop),
    ]
