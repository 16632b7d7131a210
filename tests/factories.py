"""factory_boy factories for every model the tests build."""

import datetime as dt
from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from organization.choices import Role, UnitKind
from organization.models import RoleAssignment, Unit, User
from projects.choices import DisposalMethod
from projects.models import DisposalLine, Enterprise, Node, Project


class UnitFactory(DjangoModelFactory):
    class Meta:
        model = Unit
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"单位{n}")
    kind = UnitKind.DEPARTMENT


class LocalityFactory(UnitFactory):
    name = factory.Sequence(lambda n: f"乡镇{n}")
    kind = UnitKind.TOWNSHIP


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Sequence(lambda n: f"用户{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.cn")
    password = factory.django.Password("pw-123456")


def make_user(role: str, *units: Unit, username: str | None = None) -> User:
    """A user holding one role, for the given units when the role is unit-bound."""
    user = UserFactory(**({"username": username} if username else {}))
    if role in Role.unit_bound():
        for unit in units:
            RoleAssignment.objects.create(user=user, role=role, unit=unit)
    else:
        RoleAssignment.objects.create(user=user, role=role)
    return user


class EnterpriseFactory(DjangoModelFactory):
    class Meta:
        model = Enterprise

    name = factory.Sequence(lambda n: f"企业{n}有限公司")


class ProjectFactory(DjangoModelFactory):
    class Meta:
        model = Project

    code = factory.Sequence(lambda n: f"P{n:04d}")
    name = factory.Sequence(lambda n: f"项目{n}")
    locality = factory.SubFactory(LocalityFactory)


class DisposalLineFactory(DjangoModelFactory):
    class Meta:
        model = DisposalLine

    project = factory.SubFactory(ProjectFactory)
    method = DisposalMethod.TAKEBACK
    area_mu = Decimal("10.00")


class NodeFactory(DjangoModelFactory):
    class Meta:
        model = Node

    project = factory.SubFactory(ProjectFactory)
    seq = factory.Sequence(lambda n: n + 1)
    name = factory.Sequence(lambda n: f"节点{n}")
    unit = factory.SubFactory(UnitFactory)
    due_date = dt.date(2026, 11, 20)
