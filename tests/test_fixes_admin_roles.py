"""A role given or taken in the admin goes through role_assign / role_remove, as add_user does."""

import io

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse

from organization.models import RoleAssignment, User
from organization.services import SUPERVISION_OFFICE_GROUP, role_assign, role_remove
from tests.factories import UnitFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "pw-123456"


@pytest.fixture
def root(client):
    user = UserFactory(username="root", is_superuser=True, is_staff=True)
    client.force_login(user)
    return user


def access(user: User) -> tuple[bool, list[str]]:
    """What decides whether the account opens the admin: is_staff and its groups."""
    user.refresh_from_db()
    return user.is_staff, sorted(user.groups.values_list("name", flat=True))


def opens_admin(client, user: User) -> bool:
    client.logout()
    assert client.login(username=user.username, password=PASSWORD)
    response = client.get(reverse("admin:index"))
    return response.status_code == 200


def user_change_data(user: User, rows: list[dict], **fields) -> dict:
    """The user change form as posted by the admin: the person's fields and their roles."""
    user.refresh_from_db()
    data = {
        "username": user.username,
        "full_name": user.full_name,
        "phone": user.phone,
        "email": user.email,
        "is_active": "on",
        "date_joined_0": f"{user.date_joined:%Y-%m-%d}",
        "date_joined_1": f"{user.date_joined:%H:%M:%S}",
        "last_login_0": "",
        "last_login_1": "",
        "groups": list(user.groups.values_list("pk", flat=True)),
        "role_assignments-TOTAL_FORMS": str(len(rows)),
        "role_assignments-INITIAL_FORMS": str(sum(1 for r in rows if r.get("id"))),
        "role_assignments-MIN_NUM_FORMS": "0",
        "role_assignments-MAX_NUM_FORMS": "1000",
    }
    if user.is_staff:
        data["is_staff"] = "on"
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"role_assignments-{i}-{key}"] = value
        data[f"role_assignments-{i}-user"] = str(user.pk)
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


def change_user(client, user: User, rows: list[dict], **fields):
    response = client.post(
        reverse("admin:organization_user_change", args=[user.pk]),
        user_change_data(user, rows, **fields),
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    return response


def test_a_supervisor_role_given_on_the_user_page_opens_the_admin(client, root):
    """A 督查办 role added in the user's page of the admin gives is_staff and the 督查办 group,
    as add_user does, so that account can open the admin."""
    # given
    person = UserFactory(username="dcb2")
    # when
    change_user(client, person, [{"role": "supervisor", "unit": ""}])
    # then
    assert access(person) == (True, [SUPERVISION_OFFICE_GROUP])
    assert list(person.role_assignments.values_list("role", flat=True)) == ["supervisor"]
    assert RoleAssignment.history.get().history_user == root
    assert opens_admin(client, person)
    assert client.get(reverse("admin:supervision_calendarday_add")).status_code == 200


def test_the_admin_grants_what_add_user_grants(client, root):
    """The same role gives the same access whichever way it was given."""
    # given
    call_command(
        "add_user", "by_cmd", "--password", PASSWORD, "--role", "supervisor", stdout=io.StringIO()
    )
    by_admin = UserFactory(username="by_admin")
    # when
    client.post(
        reverse("admin:organization_roleassignment_add"),
        {"user": by_admin.pk, "role": "supervisor", "unit": ""},
    )
    # then
    assert access(by_admin) == access(User.objects.get(username="by_cmd"))
    assert access(by_admin) == (True, [SUPERVISION_OFFICE_GROUP])


def test_a_unit_role_given_in_the_admin_gives_no_admin_access(client, root):
    """Staff and leaders work in the pages, not the admin: their roles do not make them staff."""
    # given
    unit = UnitFactory(name="县财政局")
    person = UserFactory(username="jbr")
    # when
    change_user(client, person, [{"role": "staff", "unit": str(unit.pk)}])
    # then
    assert access(person) == (False, [])
    assert list(person.role_assignments.values_list("role", "unit__name")) == [
        ("staff", "县财政局")
    ]


def test_taking_the_supervisor_role_away_on_the_user_page_closes_the_admin(client, root):
    """The last 督查办 role removed takes is_staff and the group with it."""
    # given
    person = UserFactory(username="dcb2")
    assignment, _ = role_assign(user=person, role="supervisor", actor=None)
    # when
    change_user(
        client,
        person,
        [{"id": str(assignment.pk), "role": "supervisor", "unit": "", "DELETE": "on"}],
    )
    # then
    assert access(person) == (False, [])
    assert not person.role_assignments.exists()
    assert RoleAssignment.history.latest("history_date").history_type == "-"
    assert RoleAssignment.history.latest("history_date").history_user == root
    assert not opens_admin(client, person)


def test_changing_the_supervisor_role_to_another_takes_the_admin_away(client, root):
    """A row changed from 督查办 to 主要领导 is the one role taken and the other given."""
    # given
    person = UserFactory(username="dcb2")
    assignment, _ = role_assign(user=person, role="supervisor", actor=None)
    # when
    response = client.post(
        reverse("admin:organization_roleassignment_change", args=[assignment.pk]),
        {"user": person.pk, "role": "principal", "unit": ""},
    )
    # then
    assert response.status_code == 302
    assert access(person) == (False, [])
    assert list(person.role_assignments.values_list("role", flat=True)) == ["principal"]


def test_deleting_supervisor_roles_from_the_role_list_closes_the_admin(client, root):
    """The role list's delete (one or many) goes through role_remove too."""
    # given
    one, two = UserFactory(username="dcb1"), UserFactory(username="dcb2")
    rows = [role_assign(user=u, role="supervisor", actor=None)[0] for u in (one, two)]
    # when
    client.post(
        reverse("admin:organization_roleassignment_delete", args=[rows[0].pk]), {"post": "yes"}
    )
    client.post(
        reverse("admin:organization_roleassignment_changelist"),
        {"action": "delete_selected", "_selected_action": [rows[1].pk], "post": "yes"},
    )
    # then
    assert not RoleAssignment.objects.exists()
    assert [access(one), access(two)] == [(False, []), (False, [])]


@pytest.mark.parametrize("keeps", ["superuser", "other group", "own permission"])
def test_another_reason_for_the_admin_keeps_it(keeps):
    """Removing the 督查办 role leaves the 督查办 group, but is_staff stays when the account has
    another use for the admin: superuser, another group, or permissions of its own."""
    # given
    from django.contrib.auth.models import Permission

    person = UserFactory(username="dcb2", is_superuser=keeps == "superuser")
    if keeps == "other group":
        person.groups.add(Group.objects.create(name="档案室"))
    if keeps == "own permission":
        person.user_permissions.add(Permission.objects.get(codename="view_unit"))
    assignment, _ = role_assign(user=person, role="supervisor", actor=None)
    # when
    removed = role_remove(assignment=assignment, actor=None)
    again = role_remove(assignment=assignment, actor=None)
    # then
    assert (removed, again) == (True, False)
    expected_groups = ["档案室"] if keeps == "other group" else []
    assert access(person) == (True, expected_groups)


def test_taking_and_giving_back_the_supervisor_role_in_one_save_keeps_the_admin(client, root):
    """Taking away and giving back the 督查办 role in one save leaves the admin open."""
    # given
    person = UserFactory(username="dcb2")
    assignment, _ = role_assign(user=person, role="supervisor", actor=None)
    # when
    change_user(
        client,
        person,
        [
            {"id": str(assignment.pk), "role": "supervisor", "unit": "", "DELETE": "on"},
            {"role": "supervisor", "unit": ""},
        ],
    )
    # then
    assert access(person) == (True, [SUPERVISION_OFFICE_GROUP])
    assert person.role_assignments.count() == 1


def test_a_role_that_does_not_fit_its_unit_is_refused_in_the_admin(client, root):
    """The admin form refuses a unit-bound role without a unit; nothing is written."""
    # given
    person = UserFactory(username="jbr")
    # when
    response = client.post(
        reverse("admin:organization_user_change", args=[person.pk]),
        user_change_data(person, [{"role": "staff", "unit": ""}]),
    )
    # then
    assert response.status_code == 200
    assert not person.role_assignments.exists()
    assert access(person) == (False, [])
