"""Data-quality issue codes (准入校验 codes).

Every standardised record leaves with a tuple of these codes. They are
strings so that they can be written to CSV as a ``;``-separated list and
stored as-is; the :class:`Issue` enum is the one list of valid codes.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Issue", "REJECTING"]


class Issue(StrEnum):
    # codes and types
    CODE_UNMAPPED = "CODE_UNMAPPED"            # gender / id_type code not in the source's table
    SOURCE_UNKNOWN = "SOURCE_UNKNOWN"          # source_system not in config/codes.yaml
    # rejections: no customer can be made from the row
    NAME_MISSING = "NAME_MISSING"
    TYPE_INVALID = "TYPE_INVALID"              # customer_type not P / G
    SOURCE_KEY_MISSING = "SOURCE_KEY_MISSING"  # source_system or source_customer_id empty
    # name
    NAME_INVALID = "NAME_INVALID"              # holds digits or symbols a name cannot hold
    NAME_PLACEHOLDER = "NAME_PLACEHOLDER"      # 张先生, 王女士, 李某: kept, never compared
    # identifiers
    ID_FORMAT = "ID_FORMAT"                    # resident ID of wrong length / characters
    ID_CHECKSUM = "ID_CHECKSUM"                # GB 11643 check digit wrong
    ID_DATE_INVALID = "ID_DATE_INVALID"        # birth date inside the resident ID impossible
    ID_AREA_INVALID = "ID_AREA_INVALID"        # area code inside the resident ID unknown
    ID_LEGACY_15 = "ID_LEGACY_15"              # 15-digit legacy ID widened to 18 (informational)
    ID_MISSING = "ID_MISSING"                  # id_type given but no number, or vice versa
    ID_TYPE_MISMATCH = "ID_TYPE_MISMATCH"      # e.g. a USCC on a person
    ID_BIRTH_MISMATCH = "ID_BIRTH_MISMATCH"    # keyed birth date != the resident ID's
    ID_GENDER_MISMATCH = "ID_GENDER_MISMATCH"  # keyed gender != the resident ID's
    USCC_FORMAT = "USCC_FORMAT"
    USCC_CHECKSUM = "USCC_CHECKSUM"
    ORG_CODE_FORMAT = "ORG_CODE_FORMAT"
    ORG_CODE_CHECKSUM = "ORG_CODE_CHECKSUM"
    # dates
    DATE_INVALID = "DATE_INVALID"              # birth date unparseable or impossible
    # contact
    MOBILE_INVALID = "MOBILE_INVALID"
    PHONE_INVALID = "PHONE_INVALID"
    EMAIL_INVALID = "EMAIL_INVALID"
    # address
    # placeholder (无, 不详) or no letter at all
    ADDRESS_INVALID = "ADDRESS_INVALID"
    # city/district not in the keyed province/city
    ADDRESS_REGION_CONFLICT = "ADDRESS_REGION_CONFLICT"
    # timestamps
    UPDATED_AT_INVALID = "UPDATED_AT_INVALID"
    UPDATED_AT_FUTURE = "UPDATED_AT_FUTURE"    # beyond the ingest's tolerance into the future
    # cells and rows as the file carried them
    FIELD_TOO_LONG = "FIELD_TOO_LONG"          # a cell longer than its limit (FIELD_LIMITS)
    CONTROL_CHAR_REMOVED = "CONTROL_CHAR_REMOVED"  # NUL, other C0 controls or a BOM taken out
    ROW_TOO_LONG = "ROW_TOO_LONG"              # more fields than the header, surplus not empty
    ROW_TOO_SHORT = "ROW_TOO_SHORT"            # fewer fields than the header
    ROW_TRUNCATED = "ROW_TRUNCATED"            # the file ends inside a quoted field


#: Codes that make a row inadmissible: it goes to the exceptions store.
REJECTING: frozenset[Issue] = frozenset(
    {Issue.NAME_MISSING, Issue.TYPE_INVALID, Issue.SOURCE_KEY_MISSING, Issue.FIELD_TOO_LONG,
     Issue.UPDATED_AT_FUTURE, Issue.ROW_TOO_LONG, Issue.ROW_TOO_SHORT, Issue.ROW_TRUNCATED}
)
