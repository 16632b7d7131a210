from django.contrib.auth.hashers import make_password
from django.db import migrations


def create_system_user(apps, schema_editor):
    User = apps.get_model("organization", "User")
    User.objects.get_or_create(
        username="system",
        defaults={"full_name": "系统", "is_active": False, "password": make_password(None)},
    )


class Migration(migrations.Migration):
    dependencies = [("organization", "0002_initial")]
    operations = [migrations.RunPython(create_system_user, migrations.RunPython.noop)]
