"""The TMF637 v4 ``Product`` schema and every schema it refers to, as the API document
``openapi/tmf637-product-inventory-v4.yaml`` has them, reduced to the keywords that decide
validity (type, format, required, properties, items, enum; a ``$ref`` is the bare name), the
properties every TMF entity repeats written once.

The views serve only what fits it (``views.to_tmf637_product``). A unit test
(tests/unit/test_views.py) checks this copy against the document.
"""

from __future__ import annotations

from typing import Any

__all__ = ["PRODUCT_SCHEMAS"]

# What TMF lets every entity say about its class, and every reference about its target.
_SUBCLASSING: dict[str, Any] = {
    "@baseType": {"type": "string"},
    "@schemaLocation": {"format": "uri", "type": "string"},
    "@type": {"type": "string"},
}
_REFERRED: dict[str, Any] = {"@referredType": {"type": "string"}}

# What a Product and a ProductRefOrValue both say.
_PRODUCT: dict[str, Any] = {
    "agreement": {"items": {"$ref": "AgreementItemRef"}, "type": "array"},
    "billingAccount": {"$ref": "BillingAccountRef"},
    "description": {"type": "string"},
    "href": {"type": "string"},
    "id": {"type": "string"},
    "isBundle": {"type": "boolean"},
    "isCustomerVisible": {"type": "boolean"},
    "name": {"type": "string"},
    "orderDate": {"format": "date-time", "type": "string"},
    "place": {"items": {"$ref": "RelatedPlaceRefOrValue"}, "type": "array"},
    "product": {"items": {"$ref": "ProductRefOrValue"}, "type": "array"},
    "productCharacteristic": {"items": {"$ref": "Characteristic"}, "type": "array"},
    "productOffering": {"$ref": "ProductOfferingRef"},
    "productOrderItem": {"items": {"$ref": "RelatedProductOrderItem"}, "type": "array"},
    "productPrice": {"items": {"$ref": "ProductPrice"}, "type": "array"},
    "productRelationship": {"items": {"$ref": "ProductRelationship"}, "type": "array"},
    "productSerialNumber": {"type": "string"},
    "productSpecification": {"$ref": "ProductSpecificationRef"},
    "productTerm": {"items": {"$ref": "ProductTerm"}, "type": "array"},
    "realizingResource": {"items": {"$ref": "ResourceRef"}, "type": "array"},
    "realizingService": {"items": {"$ref": "ServiceRef"}, "type": "array"},
    "relatedParty": {"items": {"$ref": "RelatedParty"}, "type": "array"},
    "startDate": {"format": "date-time", "type": "string"},
    "status": {"$ref": "ProductStatusType"},
    "terminationDate": {"format": "date-time", "type": "string"},
}

PRODUCT_SCHEMAS: dict[str, dict[str, Any]] = {
    "AgreementItemRef": {
        "properties": {
            **_SUBCLASSING,
            **_REFERRED,
            "agreementItemId": {"type": "string"},
            "href": {"type": "string"},
            "id": {"type": "string"},
            "name": {"type": "string"},
        },
        "required": ["id"],
        "type": "object",
    },
    "Any": {},
    "BillingAccountRef": {
        "properties": {
            **_SUBCLASSING,
            **_REFERRED,
            "href": {"type": "string"},
            "id": {"type": "string"},
            "name": {"type": "string"},
        },
        "required": ["id"],
        "type": "object",
    },
    "Characteristic": {
        "properties": {
            **_SUBCLASSING,
            "name": {"type": "string"},
            "value": {"$ref": "Any"},
            "valueType": {"type": "string"},
        },
        "required": ["name", "value"],
        "type": "object",
    },
    "Money": {
        "properties": {"unit": {"type": "string"}, "value": {"format": "float", "type": "number"}},
        "type": "object",
    },
    "Price": {
        "properties": {
            **_SUBCLASSING,
            "dutyFreeAmount": {"$ref": "Money"},
            "percentage": {"format": "float", "type": "number"},
            "taxIncludedAmount": {"$ref": "Money"},
            "taxRate": {"format": "float", "type": "number"},
        },
        "type": "object",
    },
    "PriceAlteration": {
        "properties": {
            **_SUBCLASSING,
            "applicationDuration": {"type": "integer"},
            "description": {"type": "string"},
            "name": {"type": "string"},
            "price": {"$ref": "Price"},
            "priceType": {"type": "string"},
            "priority": {"type": "integer"},
            "productOfferingPrice": {"$ref": "ProductOfferingPriceRef"},
            "recurringChargePeriod": {"type": "string"},
            "unitOfMeasure": {"type": "string"},
        },
        "required": ["price", "priceType"],
        "type": "object",
    },
    "Product": {
        "properties": {
            **_SUBCLASSING,
            **_PRODUCT,
            "externalId": {"type": "string"},
        },
        "required": ["id", "href"],
        "type": "object",
    },
    "ProductOfferingPriceRef": {
        "properties": {
            **_SUBCLASSING,
            **_REFERRED,
            "href": {"type": "string"},
            "id": {"type": "string"},
            "name": {"type": "string"},
        },
        "required": ["id"],
        "type": "object",
    },
    "ProductOfferingRef": {
        "properties": {
            **_SUBCLASSING,
            **_REFERRED,
            "href": {"type": "string"},
            "id": {"type": "string"},
            "name": {"type": "string"},
        },
        "required": ["id"],
        "type": "object",
    },
    "ProductPrice": {
        "properties": {
            **_SUBCLASSING,
            "billingAccount": {"$ref": "BillingAccountRef"},
            "description": {"type": "string"},
            "name": {"type": "string"},
            "price": {"$ref": "Price"},
            "priceType": {"type": "string"},
            "productOfferingPrice": {"$ref": "ProductOfferingPriceRef"},
            "productPriceAlteration": {"items": {"$ref": "PriceAlteration"}, "type": "array"},
            "recurringChargePeriod": {"type": "string"},
            "unitOfMeasure": {"type": "string"},
        },
        "required": ["price", "priceType"],
        "type": "object",
    },
    "ProductRefOrValue": {
        "properties": {
            **_SUBCLASSING,
            **_REFERRED,
            **_PRODUCT,
        },
        "type": "object",
    },
    "ProductRelationship": {
        "properties": {
            **_SUBCLASSING,
            "product": {"$ref": "ProductRefOrValue"},
            "relationshipType": {"type": "string"},
        },
        "required": ["product", "relationshipType"],
        "type": "object",
    },
    "ProductSpecificationRef": {
        "properties": {
            **_SUBCLASSING,
            **_REFERRED,
            "href": {"type": "string"},
            "id": {"type": "string"},
            "name": {"type": "string"},
            "targetProductSchema": {"$ref": "TargetProductSchema"},
            "version": {"type": "string"},
        },
        "required": ["id"],
        "type": "object",
    },
    "ProductStatusType": {
        "enum": [
            "created",
            "pendingActive",
            "cancelled",
            "active",
            "pendingTerminate",
            "terminated",
            "suspended",
            "aborted",
        ],
        "type": "string",
    },
    "ProductTerm": {
        "properties": {
            **_SUBCLASSING,
            "description": {"type": "string"},
            "duration": {"$ref": "Quantity"},
            "name": {"type": "string"},
            "validFor": {"$ref": "TimePeriod"},
        },
        "type": "object",
    },
    "Quantity": {
        "properties": {
            "amount": {"format": "float", "type": "number"},
            "units": {"type": "string"},
        },
        "type": "object",
    },
    "RelatedParty": {
        "properties": {
            **_SUBCLASSING,
            **_REFERRED,
            "href": {"type": "string"},
            "id": {"type": "string"},
            "name": {"type": "string"},
            "role": {"type": "string"},
        },
        "required": ["@referredType", "id"],
        "type": "object",
    },
    "RelatedPlaceRefOrValue": {
        "properties": {
            **_SUBCLASSING,
            **_REFERRED,
            "href": {"type": "string"},
            "id": {"type": "string"},
            "name": {"type": "string"},
            "role": {"type": "string"},
        },
        "required": ["role"],
        "type": "object",
    },
    "RelatedProductOrderItem": {
        "properties": {
            **_SUBCLASSING,
            **_REFERRED,
            "orderItemAction": {"type": "string"},
            "orderItemId": {"type": "string"},
            "productOrderHref": {"type": "string"},
            "productOrderId": {"type": "string"},
            "role": {"type": "string"},
        },
        "required": ["orderItemId", "productOrderId"],
        "type": "object",
    },
    "ResourceRef": {
        "properties": {
            **_SUBCLASSING,
            **_REFERRED,
            "href": {"type": "string"},
            "id": {"type": "string"},
            "name": {"type": "string"},
            "value": {"type": "string"},
        },
        "required": ["id"],
        "type": "object",
    },
    "ServiceRef": {
        "properties": {
            **_SUBCLASSING,
            **_REFERRED,
            "href": {"type": "string"},
            "id": {"type": "string"},
            "name": {"type": "string"},
        },
        "required": ["id"],
        "type": "object",
    },
    "TargetProductSchema": {
        "properties": {
            "@baseType": {"type": "string"},
            "@schemaLocation": {"type": "string"},
            "@type": {"type": "string"},
        },
        "required": ["@schemaLocation", "@type"],
        "type": "object",
    },
    "TimePeriod": {
        "properties": {
            "endDateTime": {"format": "date-time", "type": "string"},
            "startDateTime": {"format": "date-time", "type": "string"},
        },
        "type": "object",
    },
}
