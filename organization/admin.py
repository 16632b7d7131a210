"""Admin for accounts, units, roles, coverage and API tokens."""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.admin import HistoryAdmin

from .models import ApiToken, Coverage, RoleAssignment, Unit, User
from .services import api_token_revoke, role_assign, role_duties_warning, role_remove


class RoleAssignmentInline(admin.TabularInline):
    """A person's roles, saved through role_assign and role_remove (see UserAdmin.save_formset)."""

    model = RoleAssignment
    fields = ("role", "unit")
    autocomplete_fields = ("unit",)
    extra = 0


def _duties_warn(request, *, user: User, units) -> None:
    """Tell the administrator when a save left someone both staff and leader of a unit."""
    for unit in dict.fromkeys(u for u in units if u is not None):
        if warning := role_duties_warning(user=user, unit=unit):
            messages.warning(request, warning)


def _roles_save(formset, *, actor: User) -> None:
    """Save a formset of roles through the services, so the admin grants what add_user grants.

    A changed row is the old role taken away and the new one given: deletions first, so a
    role taken and given back in one save ends as given.
    """
    formset.save(commit=False)  # works out the new, changed and deleted rows; writes nothing
    for assignment in formset.deleted_objects:
        role_remove(assignment=assignment, actor=actor)
    for assignment, _fields in formset.changed_objects:
        role_remove(assignment=assignment, actor=actor)
        role_assign(user=formset.instance, role=assignment.role, unit=assignment.unit, actor=actor)
    for assignment in formset.new_objects:
        role_assign(user=formset.instance, role=assignment.role, unit=assignment.unit, actor=actor)


@admin.register(User)
class UserAdmin(HistoryAdmin, DjangoUserAdmin):
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("个人信息"), {"fields": ("full_name", "phone", "email")}),
        (
            _("权限"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("重要日期"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "username",
                    "full_name",
                    "phone",
                    "email",
                    "usable_password",
                    "password1",
                    "password2",
                ),
            },
        ),
    )
    inlines = (RoleAssignmentInline,)
    list_display = ("username", "full_name", "phone", "email", "roles", "is_active", "is_staff")
    list_filter = ("is_active", "is_staff", "is_superuser", "role_assignments__role")
    search_fields = ("username", "full_name", "email", "phone")
    ordering = ("username",)

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("role_assignments__unit")

    def save_formset(self, request, form, formset, change):
        if formset.model is RoleAssignment:
            _roles_save(formset, actor=request.user)
            _duties_warn(
                request,
                user=formset.instance,
                units=[a.unit for a in formset.new_objects]
                + [a.unit for a, _fields in formset.changed_objects],
            )
        else:
            super().save_formset(request, form, formset, change)

    @admin.display(description=_("角色"))
    def roles(self, obj: User) -> str:
        return "；".join(
            f"{ra.get_role_display()}·{ra.unit.name}" if ra.unit_id else str(ra.get_role_display())
            for ra in obj.role_assignments.all()
        )


@admin.register(Unit)
class UnitAdmin(HistoryAdmin):
    list_display = ("name", "kind", "is_active", "staff_count", "node_count")
    list_filter = ("kind", "is_active")
    search_fields = ("name",)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                _staff=Count("role_assignments", distinct=True),
                _nodes=Count("nodes", distinct=True),
            )
        )

    @admin.display(description=_("人员角色数"), ordering="_staff")
    def staff_count(self, obj: Unit) -> int:
        return obj._staff

    @admin.display(description=_("节点数"), ordering="_nodes")
    def node_count(self, obj: Unit) -> int:
        return obj._nodes


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(HistoryAdmin):
    """Roles given and taken through role_assign and role_remove, as add_user does."""

    list_display = ("user", "role", "unit")
    list_filter = ("role", "unit__kind", "unit")
    search_fields = ("user__username", "user__full_name", "unit__name")
    autocomplete_fields = ("user", "unit")
    list_select_related = ("user", "unit")

    def save_model(self, request, obj, form, change):
        if change and form.has_changed():
            role_remove(assignment=obj, actor=request.user)
        assignment, _created = role_assign(
            user=obj.user, role=obj.role, unit=obj.unit, actor=request.user
        )
        obj.pk = assignment.pk
        _duties_warn(request, user=obj.user, units=[obj.unit])

    def delete_model(self, request, obj):
        role_remove(assignment=obj, actor=request.user)

    def delete_queryset(self, request, queryset):
        for assignment in queryset:
            role_remove(assignment=assignment, actor=request.user)


@admin.register(Coverage)
class CoverageAdmin(HistoryAdmin):
    list_display = ("leader", "target", "locality", "enterprise", "project")
    list_filter = ("target", "locality", "leader")
    search_fields = (
        "leader__username",
        "leader__full_name",
        "locality__name",
        "enterprise__name",
        "project__code",
        "project__name",
    )
    autocomplete_fields = ("leader", "locality", "enterprise", "project")
    list_select_related = ("leader", "locality", "enterprise", "project")


class TokenStateFilter(admin.SimpleListFilter):
    title = _("状态")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return (("active", _("有效")), ("revoked", _("已吊销")))

    def queryset(self, request, queryset):
        if self.value() == "active":
            return queryset.filter(revoked_at__isnull=True)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are made by a management command (the raw value is shown once); here only revoked."""

    list_display = ("user", "prefix", "created_at", "last_used_at", "revoked_at")
    list_filter = (TokenStateFilter, "created_at")
    search_fields = ("user__username", "user__full_name", "prefix")
    fields = ("user", "prefix", "digest", "created_at", "last_used_at", "revoked_at")
    readonly_fields = fields
    list_select_related = ("user",)
    actions = ("revoke",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_revoke_permission(self, request):
        return request.user.has_perm("organization.change_apitoken")

    @admin.action(description=_("吊销"), permissions=("revoke",))
    def revoke(self, request, queryset):
        revoked = sum(api_token_revoke(token=t, actor=request.user) for t in queryset)
        self.message_user(
            request,
            ngettext("已吊销 %(n)d 个令牌。", "已吊销 %(n)d 个令牌。", revoked) % {"n": revoked},
            messages.SUCCESS,
        )
