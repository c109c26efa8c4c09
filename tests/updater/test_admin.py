"""The product and feed admin pages."""

import pytest
from django.urls import reverse

from tests.updater.factories import ProductFactory
from tests.updater.helpers import stored_feed

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, staff):
    client.force_login(staff)
    return client


def test_products_are_searched_by_sku_and_name(admin_client):
    ProductFactory(sku="LAMP-1", name="Desk lamp")
    ProductFactory(sku="MUG-1", name="Coffee mug")
    url = reverse("admin:updater_product_changelist")
    assert "LAMP-1" in admin_client.get(url, {"q": "lamp"}).content.decode()
    page = admin_client.get(url, {"q": "MUG-1"}).content.decode()
    assert "MUG-1" in page and "LAMP-1" not in page


def test_products_are_filtered_by_active_and_currency(admin_client):
    ProductFactory(sku="ON-EUR", active=True, currency="EUR")
    ProductFactory(sku="OFF-USD", active=False, currency="USD")
    url = reverse("admin:updater_product_changelist")
    page = admin_client.get(url, {"active__exact": "0"}).content.decode()
    assert "OFF-USD" in page and "ON-EUR" not in page
    page = admin_client.get(url, {"currency": "EUR"}).content.decode()
    assert "ON-EUR" in page and "OFF-USD" not in page


def test_a_product_can_be_edited_in_the_admin(admin_client):
    product = ProductFactory(sku="A", stock=1)
    url = reverse("admin:updater_product_change", args=[product.pk])
    response = admin_client.post(
        url, {"sku": "A", "name": "Lamp", "price": "2.50", "currency": "EUR", "stock": "4", "active": "on"}
    )
    assert response.status_code == 302
    product.refresh_from_db()
    assert product.stock == 4


def test_feeds_are_shown_but_not_edited(admin_client):
    feed = stored_feed("sku\nA\n")
    assert admin_client.get(reverse("admin:updater_feed_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:updater_feed_change", args=[feed.pk])).status_code == 200
    assert admin_client.get(reverse("admin:updater_feed_add")).status_code == 403
