"""The statuses of an order, as plain enums: no database imports, so the command line can
offer them as choices without slowing `avasam --help`. The moves between them live in
lifecycle.py."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    MATCHING = "matching"
    UNMATCHED = "unmatched"
    HELD = "held"
    QUEUE = "queue"
    OPEN = "open"
    DISPATCHED = "dispatched"
    CANCELLED = "cancelled"


class Payment(StrEnum):
    UNPAID = "unpaid"
    PAID = "paid"
    REFUNDED = "refunded"


class Shipping(StrEnum):
    UNSHIPPED = "unshipped"
    SHIPPED = "shipped"


class HoldReason(StrEnum):
    OUTSIDE_UK = "outside_uk"
    EXCLUDED_POSTCODE = "excluded_postcode"
    OUT_OF_STOCK = "out_of_stock"
    SHIPPING_UNMAPPED = "shipping_unmapped"
    # A GB postcode that does not parse: the supplier's exclusions cannot be checked.
    INVALID_ADDRESS = "invalid_address"


class CancelReason(StrEnum):
    CUSTOMER_CHANGED_MIND = "customer_changed_mind"
    OUT_OF_STOCK = "out_of_stock"
    ADDRESS_PROBLEM = "address_problem"
    DUPLICATE_ORDER = "duplicate_order"
    PRICE_ERROR = "price_error"
    OTHER = "other"
    # Set by the supplier (dispatch file) or by a channel; not offered to the seller.
    SUPPLIER_CANCELLED = "supplier_cancelled"
    CHANNEL_CANCELLED = "channel_cancelled"


# A seller may give these when cancelling; the supplier's and the channel's are set by them.
SELLER_CANCEL_REASONS = tuple(
    r.value
    for r in CancelReason
    if r not in (CancelReason.SUPPLIER_CANCELLED, CancelReason.CHANNEL_CANCELLED)
)


class ShippingServiceKind(StrEnum):
    STANDARD = "standard"
    STANDARD_TRACKED = "standard_tracked"
    EXPEDITED = "expedited"


class ChannelType(StrEnum):
    FILE = "file"
    SHOPIFY = "shopify"
    WOOCOMMERCE = "woocommerce"


class ExportProtocol(StrEnum):
    FTP = "ftp"
    FTPS = "ftps"
    SFTP = "sftp"
    FILE = "file"


class FileFormat(StrEnum):
    CSV = "csv"
    JSON = "json"


class TicketKind(StrEnum):
    CANCEL_REQUEST = "cancel_request"
    QUERY = "query"
    RETURN = "return"


class TicketStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class RunOutcome(StrEnum):
    """How a job run or an export run ended (`running` while it has not)."""

    RUNNING = "running"
    OK = "ok"
    FAILED = "failed"
    DRY_RUN = "dry_run"
    NOTHING_NEW = "nothing_new"
    BUSY = "busy"
    KILLED = "killed"  # found still `running` by the next run, which holds the lock


class SecretKind(StrEnum):
    """Where an export's secret lives: never the secret itself."""

    PASSWORD_ENV = "password_env"
    PASSWORD_FILE = "password_file"
    KEY_FILE = "key_file"


class DispatchFileStatus(StrEnum):
    """The Status column of a supplier's dispatch file."""

    SHIPPED = "SHIPPED"
    CANCELLED = "CANCELLED"


class FeedKind(StrEnum):
    """What an import feed's files carry."""

    DISPATCHES = "dispatches"  # dispatch confirmations: order, status, tracking, carrier
    STOCK = "stock"  # the product feed, full or partial


class FeedAfter(StrEnum):
    """What becomes of a feed's file on the server once applied."""

    ARCHIVE = "archive"  # moved into processed/
    DELETE = "delete"
    KEEP = "keep"  # left there, remembered by name, size, time and hash


class FileOutcome(StrEnum):
    APPLIED = "applied"
    REJECTED = "rejected"


class UpdateKind(StrEnum):
    """What a pending channel update tells the sales channel."""

    DISPATCH = "dispatch"
    CANCEL = "cancel"


class UpdateStatus(StrEnum):
    """Where a channel update is: waiting to be sent, sent once, or given up on."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


# The recurring jobs, by the name their lock, run record and log line carry.
JOBS = ("pull", "match", "process", "exports", "push", "imports")

# The audit event of a channel change not applied to an order (it had gone to the
# supplier, or lines were added or removed); `status` lists such orders until a ticket
# is raised for them after the event.
CHANGE_IGNORED = "channel_change_ignored"

# The audit event of one field corrected with `orders edit`; a channel's later update of
# the order leaves such a field as the seller corrected it.
EDITED = "edited"
