#!/usr/bin/env bash
# Installs avasam into .venv and runs a seller's day on the embedded SQLite database
# (kept in ./demo-data, so your own workspace is never touched).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/pip install --quiet --disable-pip-version-check .   # as a user installs it
export PATH="$PWD/.venv/bin:$PATH"

# The embedded SQLite default lives in $XDG_DATA_HOME/avasam/avasam.db.
rm -rf demo-data
export XDG_DATA_HOME="$PWD/demo-data"
unset AVASAM_DATABASE_URL
export AVASAM_ACTOR=demo

step() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }

step "Create the workspace"
avasam init

step "A supplier that does not deliver to the Scottish islands or Northern Ireland"
avasam suppliers add OAKCO --name "Oak & Co Furniture" --exclude-postcodes "HS,ZE,KW15-17,BT"
avasam suppliers shipping OAKCO standard --price 4.99 --vat 20 --carrier "Royal Mail"
avasam suppliers shipping OAKCO expedited --price 9.99 --vat 20 --carrier DPD

step "Its stock and price feed"
avasam products import demo/products.csv --supplier OAKCO
avasam products list
avasam products show OAK-TABLE-01

step "Top up the balance that pays for orders"
avasam account topup 250 --reference "bank transfer"

step "Orders keyed in by hand: each is invoiced and paid at once"
avasam orders add --name "Ann Lee" --address1 "4 Harbour St" --city Stornoway \
    --postcode "HS1 2AB" --item OAK-CHAIR-02:2 --shipping-service standard --reference DEMO-1
avasam orders add --name "Bob Ray" --address1 "10 Downing St" --city London \
    --postcode "SW1A 2AA" --item OAK-CHAIR-02:2 --shipping-service standard --reference DEMO-2 \
    --note "Gift: no prices on the delivery note"
avasam orders add --name "Cy Doe" --address1 "2 Park Row" --city Leeds \
    --postcode "LS1 5HD" --item OAK-TABLE-01 --item OAK-CHAIR-02:4 \
    --shipping-service expedited --reference DEMO-3
avasam orders add --from-file demo/order.json
avasam orders add --name "Dee Fox" --address1 "9 Mill Lane" --city Bristol \
    --postcode "BS1 4DJ" --item OAK-STOOL-04 --shipping-service standard --reference DEMO-5

step "The balance ran out for DEMO-3: top up and process the queue again"
avasam account balance
avasam account topup 400 --reference "second transfer"
avasam orders process

step "The supplier dispatches and cancels"
avasam orders dispatch DEMO-2 --tracking RM123456785GB --carrier "Royal Mail"
avasam dispatches import demo/dispatches.csv

step "A sales channel: a folder where the shop drops its orders"
mkdir -p demo-data/shop-orders demo-data/outbox
cp demo/shop-orders/*.csv demo-data/shop-orders/
avasam channels add shop --type file --path demo-data/shop-orders
avasam channels map-shipping shop "Royal Mail 2nd Class" standard
avasam channels pull --all
echo "SHOP-TEAK-LAMP is not in the catalogue: that order waits, hidden, for a SKU link:" >&2
avasam orders list --status matching
AVASAM_MATCH_WINDOW=0d avasam orders match   # the demo does not wait four days
avasam orders process

step "DEMO-1's customer gives a mainland address: correct it, and the hold is released"
avasam orders edit DEMO-1 --address1 "1 Church St" --city Inverness --postcode "IV1 1EN" \
    --reason "customer's mainland address"
avasam orders process

step "Oak & Co receives its open orders as a file (in demo-data/outbox)"
avasam exports add oak-outbox --supplier OAKCO --protocol file --remote-dir demo-data/outbox \
    --schedule "*/30 * * * *" --only-new
avasam exports run oak-outbox
ls demo-data/outbox >&2

step "The supplier confirms a dispatch in its own folder; avasam fetches it (an import)"
mkdir -p demo-data/supplier-out
printf 'OrderNumber,Status,TrackingNumber,Carrier\nSHOP-5001,SHIPPED,RM987654321GB,Royal Mail\n' \
    > demo-data/supplier-out/dispatch-0001.csv
avasam imports add oak-dispatches --supplier OAKCO --kind dispatches --protocol file \
    --remote-dir demo-data/supplier-out --schedule "*/15 * * * *"
# (AVASAM_IMPORT_SETTLE: seconds between two looks at the folder, so a file still being
# uploaded is left for the next run; 10 by default, short for the demo)
AVASAM_IMPORT_SETTLE=1 avasam imports run oak-dispatches   # cron: avasam imports run --due
ls demo-data/supplier-out/processed >&2

step "The shop hears of the dispatch (write-back)"
avasam channels push    # a file channel gets a confirmations CSV (Shopify: a fulfillment)
cat demo-data/shop-orders/confirmations/*.csv >&2

step "What happened to each order"
avasam orders list --all --sort placed
step "Why the held ones are waiting"
avasam orders list --status held --format csv

step "The audit trail of DEMO-3"
avasam orders audit DEMO-3

step "The ledger"
avasam account ledger

step "What needs attention (exit 1 when something does)"
avasam status || true
echo "Schedule the jobs with: avasam cron show   (or: avasam cron install)" >&2
