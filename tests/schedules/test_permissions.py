"""The services check Schedule's model permissions: staff holding them; nobody else."""

import pytest
from django.contrib.auth.models import AnonymousUser, Permission

from jobs import selectors, services
from jobs.exceptions import PermissionDenied
from jobs.models import Schedule
from tests.factories import UserFactory, staff_with

pytestmark = pytest.mark.django_db

FIELDS = {"name": "nightly", "handler": "jobs.noop", "cron": "0 3 * * *"}


@pytest.mark.parametrize("who", ["anonymous", "plain user", "staff without permission", "plain user with it"])
def test_others_may_not_create_see_or_change(who):
    by = {
        "anonymous": lambda: AnonymousUser(),
        "plain user": lambda: UserFactory(),
        "staff without permission": lambda: UserFactory(is_staff=True),
        "plain user with it": lambda: _plain_with_perms(),
    }[who]()
    schedule = services.schedule_create(**FIELDS)
    with pytest.raises(PermissionDenied):
        services.schedule_create(by=by, **{**FIELDS, "name": "other"})
    with pytest.raises(PermissionDenied):
        selectors.schedule_list(user=by)
    for action in (services.schedule_pause, services.schedule_run_now, services.schedule_delete):
        with pytest.raises(PermissionDenied):
            action(schedule=schedule, by=by)
    assert Schedule.objects.count() == 1 and not Schedule.objects.get().is_paused


def _plain_with_perms():
    user = UserFactory()  # not staff: the permission alone is not enough
    user.user_permissions.add(*Permission.objects.filter(codename__endswith="_schedule"))
    return user


def test_staff_with_each_permission_may_do_its_part():
    adder, changer, deleter = staff_with("add_schedule"), staff_with("change_schedule"), staff_with("delete_schedule")
    schedule = services.schedule_create(by=adder, **FIELDS)
    assert schedule.created_by == adder
    with pytest.raises(PermissionDenied):
        services.schedule_pause(schedule=schedule, by=adder)
    assert services.schedule_pause(schedule=schedule, by=changer).paused_by == changer
    services.schedule_update(schedule=schedule, by=changer, cron="0 4 * * *")
    with pytest.raises(PermissionDenied):
        services.schedule_delete(schedule=schedule, by=changer)
    services.schedule_delete(schedule=schedule, by=deleter)
    assert not Schedule.objects.exists()


def test_a_handler_the_user_may_not_enqueue_cannot_be_scheduled_by_them(handler_registry):
    handler_registry.register_handler("tests.guarded", lambda ctx: None, enqueue_permission="jobs.retry_job")
    user = staff_with("add_schedule")
    with pytest.raises(PermissionDenied):
        services.schedule_create(by=user, **{**FIELDS, "handler": "tests.guarded"})
    user = staff_with("add_schedule", "retry_job")
    assert services.schedule_create(by=user, **{**FIELDS, "handler": "tests.guarded"}).handler == "tests.guarded"
