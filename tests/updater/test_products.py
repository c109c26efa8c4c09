"""The set-based upsert: counts, partial columns, exact decimals, duplicates, and no wasted writes."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.updater.factories import ProductFactory
from updater.models import Product
from updater.services import UpsertCounts, product_upsert_chunk

pytestmark = pytest.mark.django_db

EARLIER = timezone.now() - timedelta(days=1)


def test_new_changed_and_unchanged_rows_are_counted():
    ProductFactory(sku="SAME", name="Lamp", price=Decimal("10.00"), currency="EUR", stock=5, active=True)
    ProductFactory(sku="CHANGED", name="Mug", price=Decimal("3.00"), currency="EUR", stock=1, active=True)
    counts = product_upsert_chunk(
        rows=[
            {"sku": "SAME", "name": "Lamp", "price": Decimal("10"), "currency": "EUR", "stock": 5, "active": True},
            {"sku": "CHANGED", "name": "Mug", "price": Decimal("3.50"), "currency": "EUR", "stock": 1, "active": True},
            {"sku": "NEW", "name": "Cup", "price": Decimal("2.00"), "currency": "USD", "stock": 9, "active": False},
        ]
    )
    assert counts == UpsertCounts(created=1, updated=1, unchanged=1)
    assert Product.objects.get(sku="CHANGED").price == Decimal("3.50")
    new = Product.objects.get(sku="NEW")
    assert (new.name, new.price, new.currency, new.stock, new.active) == ("Cup", Decimal("2.00"), "USD", 9, False)


def test_unchanged_rows_are_not_rewritten():
    ProductFactory(sku="A", price=Decimal("1.00"), stock=2)
    Product.objects.filter(sku="A").update(updated_at=EARLIER)
    counts = product_upsert_chunk(rows=[{"sku": "A", "price": Decimal("1.00"), "stock": 2}])
    assert counts.unchanged == 1
    assert Product.objects.get(sku="A").updated_at == EARLIER


def test_a_change_moves_updated_at():
    ProductFactory(sku="A", stock=2)
    Product.objects.filter(sku="A").update(updated_at=EARLIER)
    product_upsert_chunk(rows=[{"sku": "A", "stock": 3}])
    assert Product.objects.get(sku="A").updated_at > EARLIER


def test_absent_columns_keep_their_values():
    ProductFactory(sku="A", name="Lamp", price=Decimal("10.00"), currency="GBP", stock=4, active=False)
    product_upsert_chunk(rows=[{"sku": "A", "price": Decimal("12.00")}])
    product = Product.objects.get(sku="A")
    assert (product.name, product.price, product.currency, product.stock, product.active) == (
        "Lamp", Decimal("12.00"), "GBP", 4, False
    )


def test_a_new_product_from_a_partial_row_gets_the_defaults():
    assert product_upsert_chunk(rows=[{"sku": "NEW", "stock": 3}]).created == 1
    product = Product.objects.get(sku="NEW")
    assert (product.name, product.price, product.currency, product.stock, product.active) == ("", None, "", 3, True)


def test_rows_with_different_columns_in_one_chunk():
    ProductFactory(sku="A", price=Decimal("1.00"), stock=1)
    ProductFactory(sku="B", price=Decimal("1.00"), stock=1)
    counts = product_upsert_chunk(rows=[{"sku": "A", "price": Decimal("2.00")}, {"sku": "B", "stock": 7}, {"sku": "C"}])
    assert counts == UpsertCounts(created=1, updated=2)
    assert Product.objects.get(sku="A").stock == 1 and Product.objects.get(sku="B").price == Decimal("1.00")


def test_a_sku_only_row_creates_but_never_changes():
    ProductFactory(sku="A", stock=1)
    assert product_upsert_chunk(rows=[{"sku": "A"}, {"sku": "B"}]) == UpsertCounts(created=1, unchanged=1)


@pytest.mark.parametrize("price", ["0.01", "0.10", "19.99", "1234567890.99", "9999999999.99", "0"])
def test_prices_are_stored_exactly(price):
    product_upsert_chunk(rows=[{"sku": "A", "price": Decimal(price)}])
    assert Product.objects.get(sku="A").price == Decimal(price)
    assert product_upsert_chunk(rows=[{"sku": "A", "price": Decimal(price)}]).unchanged == 1


def test_a_cent_is_a_change():
    ProductFactory(sku="A", price=Decimal("9999999999.98"))
    assert product_upsert_chunk(rows=[{"sku": "A", "price": Decimal("9999999999.99")}]).updated == 1


def test_duplicates_in_a_chunk_merge_with_the_later_values_winning():
    counts = product_upsert_chunk(
        rows=[
            {"sku": "A", "price": Decimal("1.00"), "stock": 1},
            {"sku": "B", "stock": 4},
            {"sku": "A", "price": Decimal("2.00")},
            {"sku": "A", "name": "Lamp"},
        ]
    )
    assert counts == UpsertCounts(created=2, duplicates=2)
    product = Product.objects.get(sku="A")
    assert (product.price, product.stock, product.name) == (Decimal("2.00"), 1, "Lamp")


def test_a_chunk_is_written_with_a_bounded_number_of_queries(django_assert_max_num_queries):
    rows = [{"sku": f"S{n}", "price": Decimal(n), "stock": n} for n in range(1000)]
    with django_assert_max_num_queries(20):
        assert product_upsert_chunk(rows=rows).created == 1000


def test_a_failing_chunk_leaves_nothing_behind():
    ProductFactory(sku="A", stock=1)
    rows = [{"sku": "A", "stock": 2}, {"sku": "B", "stock": 1}, {"sku": "C", "stock": 1, "price": Decimal("-1")}]
    with pytest.raises(DatabaseError):  # the price check constraint; validation normally stops it first
        product_upsert_chunk(rows=rows)
    assert list(Product.objects.values_list("sku", "stock")) == [("A", 1)]


def test_the_statement_text_of_a_chunk_is_not_kept_even_with_debug_on():
    # A worker run with DEBUG on would otherwise hold every chunk's statement in connection.queries.
    with CaptureQueriesContext(connection) as queries:
        product_upsert_chunk(rows=[{"sku": f"S{n}", "name": "N" * 50, "stock": n} for n in range(5000)])
    assert Product.objects.count() == 5000
    assert sum(len(query["sql"]) for query in queries.captured_queries) < 10_000


def test_a_value_holding_the_separator_is_refused_whole():
    # updater.rows refuses control characters; a caller that skipped it must not shift columns.
    if connection.vendor != "postgresql":
        pytest.skip("only the PostgreSQL upsert joins a column's values with a separator")
    rows = [{"sku": "A", "name": "ok"}, {"sku": "B", "name": "bad\x1fname"}]
    with pytest.raises((ValueError, DatabaseError)):
        product_upsert_chunk(rows=rows)
    assert not Product.objects.exists()
