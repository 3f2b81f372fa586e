"""The product registry: one module per mail server product, and questions asked of them all.

Each module in this package holds one product's words (persona), settings
(its preset, in the product's own names), capabilities, limits, log patterns
and labels, and ends with a :class:`~simlab.products.base.Product`. The
registry lists them in the order lessons show them::

    from simlab import products
    products.get("eims-2.1").can(products.RELAY_BY_SENDER_DOMAIN)      # True
    [p.name for p in products.with_capability(products.SUBMISSION)]    # ['postfix']
    products.product_of(server).label                                  # 'Postfix 3.7'

Adding a product is one new module here (persona, factory, ``PRODUCT``),
one entry in :data:`_MODULES`, and its tests.
"""

from __future__ import annotations

import importlib

from simlab.errors import ConfigError
from simlab.i18n import t
from simlab.products.base import (
    CAPABILITIES,
    CLIENT_CONNECTION_LIMIT,
    DKIM_SIGNING,
    DNSBL,
    IP_RANGE_RESTRICTION,
    POP3,
    RELAY_BY_CLIENT_IP,
    RELAY_BY_SENDER_DOMAIN,
    RELAY_CONTROL,
    SENDER_LOGIN_CHECK,
    SMTP_AUTH,
    SUBMISSION,
    Product,
    ServerOrigin,
    SiteNames,
    origin_of,
)
from simlab.restrictions.guards import FILTERS

__all__ = ["CAPABILITIES", "PRODUCTS", "Product", "ServerOrigin", "SiteNames", "get", "names", "origin_of",
           "product_of", "with_capability", "choices", "RELAY_CONTROL", "RELAY_BY_SENDER_DOMAIN",
           "RELAY_BY_CLIENT_IP", "IP_RANGE_RESTRICTION", "SMTP_AUTH", "SUBMISSION", "DNSBL",
           "CLIENT_CONNECTION_LIMIT", "SENDER_LOGIN_CHECK", "POP3", "DKIM_SIGNING"]

#: Product modules, in the order lessons list them. Each defines ``PRODUCTS``: a tuple of Product.
_MODULES = ("eims", "sims", "postfix", "exim")

PRODUCTS: dict[str, Product] = {}
for _module in _MODULES:
    for _product in importlib.import_module(f"simlab.products.{_module}").PRODUCTS:
        PRODUCTS[_product.name] = _product
        FILTERS.update(_product.fail2ban_filters)


def get(name: str) -> Product:
    """The product registered as ``name`` (``"eims-2.1"``), or a ``ConfigError`` listing the names."""
    if isinstance(name, Product):
        return name
    try:
        return PRODUCTS[name]
    except (KeyError, TypeError):
        raise ConfigError("preset", name, t("product.error.not_a_preset"),
                          t("expected.one_of", choices=", ".join(PRODUCTS))) from None


def names() -> tuple[str, ...]:
    """Every registered product's name."""
    return tuple(PRODUCTS)


def product_of(server: object) -> Product:
    """The product a server built by a preset belongs to."""
    return get(origin_of(server).product)


def with_capability(capability: str) -> list[Product]:
    """The products that have ``capability``."""
    if capability not in CAPABILITIES:
        raise ConfigError("capability", capability, t("product.error.not_a_capability"),
                          t("expected.one_of", choices=", ".join(CAPABILITIES)))
    return [p for p in PRODUCTS.values() if capability in p.capabilities]


def choices(*capabilities: str) -> list[tuple[str, str]]:
    """``(label, name)`` pairs for a panel's product menu: the products with all ``capabilities``."""
    return [(p.label, p.name) for p in PRODUCTS.values() if all(p.can(c) for c in capabilities)]
