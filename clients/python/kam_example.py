"""What a platform does with kam, in Python: the calls a CRM or survey tool makes.

1. Creates a manager and the accounts they own (request ids: a retry never creates twice).
2. Records a burst of survey answers with request ids; one is sent twice, as a retry would.
3. Reads the account's health.
4. Follows WatchAlerts: sees the manager's overload alert, disconnects, acknowledges the alert,
   and reconnects with the last resume token -- the next change is the acknowledgement, nothing
   repeated, nothing skipped.
5. Decodes a rich error: every bad field of a refused request, and its stable reason.

The channels use kam's published service config (api/service-config.json): retries on
UNAVAILABLE for reads and for writes with a request_id, and a timeout per method.

Run with clients/python/run (generates the stubs from proto/ first); addresses from
KAM_ACCOUNTS_ADDR, KAM_INTERACTIONS_ADDR, KAM_ALERTS_ADDR. Exits non-zero when kam did not
behave as its contract says.
"""

import datetime
import os
import sys
import uuid

import grpc
from google.protobuf import timestamp_pb2
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from kam.v1 import accounts_pb2, accounts_pb2_grpc
from kam.v1 import alerts_pb2, alerts_pb2_grpc
from kam.v1 import common_pb2
from kam.v1 import interactions_pb2, interactions_pb2_grpc

CALL_TIMEOUT_SECONDS = 15


def channel(address: str, service_config: str) -> grpc.Channel:
    return grpc.insecure_channel(
        address,
        options=[("grpc.service_config", service_config), ("grpc.enable_retries", 1)],
    )


def request_id() -> str:
    return f"python-example-{uuid.uuid4()}"


def check(condition: bool, what: str) -> None:
    if not condition:
        print(f"FAILED: {what}", file=sys.stderr)
        sys.exit(1)


def now_timestamp(minutes_ago: int = 0) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(
        datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=minutes_ago)
    )
    return stamp


def create_book(accounts: accounts_pb2_grpc.AccountsServiceStub, run: str):
    manager = accounts.CreateManager(
        accounts_pb2.CreateManagerRequest(
            request_id=request_id(),
            manager=accounts_pb2.Manager(
                name="Pia Python", email=f"pia-{run}@example.com", capacity=1
            ),
        ),
        timeout=CALL_TIMEOUT_SECONDS,
    )
    owned = []
    for i in range(3):
        create = accounts_pb2.CreateAccountRequest(
            request_id=request_id(),
            account=accounts_pb2.Account(
                name=f"Python Customer {i}",
                industry=common_pb2.INDUSTRY_SERVICES,
                annual_revenue=common_pb2.Money(amount_minor=5_000_000_00, currency="EUR"),
                owner_manager_id=manager.id,
            ),
        )
        owned.append(accounts.CreateAccount(create, timeout=CALL_TIMEOUT_SECONDS))
    print(f"created manager {manager.id} owning {len(owned)} accounts (capacity 1)")
    return manager, owned


def record_burst(interactions: interactions_pb2_grpc.InteractionsServiceStub, account_id: str):
    answers = []
    for i, nps in enumerate([9, 7, 3, 2, 8, 1, 10, 4]):
        answers.append(
            interactions_pb2.RecordInteractionRequest(
                request_id=request_id(),
                interaction=interactions_pb2.Interaction(
                    account_id=account_id,
                    type=interactions_pb2.INTERACTION_TYPE_SURVEY,
                    channel=interactions_pb2.CHANNEL_EMAIL,
                    occur_time=now_timestamp(minutes_ago=60 - i),
                    survey=interactions_pb2.Survey(nps=nps),
                    source_system="python-example",
                ),
            )
        )
    recorded = [
        interactions.RecordInteraction(answer, timeout=CALL_TIMEOUT_SECONDS) for answer in answers
    ]
    # A retry of the first answer (same request_id) returns the same interaction.
    again = interactions.RecordInteraction(answers[0], timeout=CALL_TIMEOUT_SECONDS)
    check(again.id == recorded[0].id, "a retried request_id records nothing twice")
    print(f"recorded {len(recorded)} survey answers; the retry returned {again.id} again")


def read_health(interactions: interactions_pb2_grpc.InteractionsServiceStub, account_id: str):
    health = interactions.GetAccountHealth(
        interactions_pb2.GetAccountHealthRequest(account_id=account_id),
        timeout=CALL_TIMEOUT_SECONDS,
    )
    print(f"health of {account_id}: NPS {health.nps:.0f} from {health.nps_responses} answers")
    check(health.nps_responses == 8, "every recorded answer counts once")


def overload_across_reconnect(alerts: alerts_pb2_grpc.AlertsServiceStub, manager_id: str):
    # First connection: from the start of the retained history until the overload fires.
    stream = alerts.WatchAlerts(alerts_pb2.WatchAlertsRequest(), timeout=60)
    overload, token = None, ""
    for change in stream:
        token = change.resume_token
        if (
            change.alert.rule == alerts_pb2.ALERT_RULE_MANAGER_OVERLOADED
            and change.alert.manager_id == manager_id
        ):
            overload = change.alert
            break
    stream.cancel()  # the disconnect
    check(overload is not None, "the manager's overload arrives on WatchAlerts")
    print(f"overload {overload.id} fired: {overload.summary}")

    alerts.AcknowledgeAlert(
        alerts_pb2.AcknowledgeAlertRequest(
            id=overload.id, etag=overload.etag, acknowledged_by="python-example"
        ),
        timeout=CALL_TIMEOUT_SECONDS,
    )
    # Reconnect after the last change seen: the next change of this alert is the acknowledgement.
    stream = alerts.WatchAlerts(alerts_pb2.WatchAlertsRequest(resume_token=token), timeout=60)
    for change in stream:
        if change.alert.id != overload.id:
            continue
        check(
            change.kind == alerts_pb2.ALERT_CHANGE_KIND_ACKNOWLEDGED,
            f"after the resume token comes the acknowledgement, not {change.kind}",
        )
        break
    stream.cancel()
    print("reconnected with the resume token: the acknowledgement came next, nothing repeated")


def rich_error(accounts: accounts_pb2_grpc.AccountsServiceStub):
    bad = accounts_pb2.CreateAccountRequest(
        request_id=request_id(),
        account=accounts_pb2.Account(
            name="",
            industry=common_pb2.INDUSTRY_SERVICES,
            regions=["XX"],
            annual_revenue=common_pb2.Money(amount_minor=-1, currency="EUR"),
        ),
    )
    try:
        accounts.CreateAccount(bad, timeout=CALL_TIMEOUT_SECONDS)
    except grpc.RpcError as error:
        status = rpc_status.from_call(error)
        check(status is not None, "the error carries a google.rpc.Status")
        reason, fields = "", []
        for detail in status.details:
            info = error_details_pb2.ErrorInfo()
            request = error_details_pb2.BadRequest()
            if detail.Unpack(info):
                reason = info.reason
            elif detail.Unpack(request):
                fields = [violation.field for violation in request.field_violations]
        print(f"refused with {error.code().name}, reason {reason}: {', '.join(fields)}")
        check(error.code() == grpc.StatusCode.INVALID_ARGUMENT, "INVALID_ARGUMENT")
        check(reason == "INVALID_FIELD", "reason INVALID_FIELD")
        check(
            fields
            == ["account.name", "account.regions[0]", "account.annual_revenue.amount_minor"],
            f"every bad field named, got {fields}",
        )
        return
    check(False, "a request with bad fields is refused")


def main() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "..", "..", "api", "service-config.json")) as config:
        service_config = config.read()
    accounts = accounts_pb2_grpc.AccountsServiceStub(
        channel(os.environ.get("KAM_ACCOUNTS_ADDR", "127.0.0.1:50051"), service_config)
    )
    interactions = interactions_pb2_grpc.InteractionsServiceStub(
        channel(os.environ.get("KAM_INTERACTIONS_ADDR", "127.0.0.1:50052"), service_config)
    )
    alerts = alerts_pb2_grpc.AlertsServiceStub(
        channel(os.environ.get("KAM_ALERTS_ADDR", "127.0.0.1:50053"), service_config)
    )
    run = uuid.uuid4().hex[:8]
    manager, owned = create_book(accounts, run)
    record_burst(interactions, owned[0].id)
    read_health(interactions, owned[0].id)
    overload_across_reconnect(alerts, manager.id)
    rich_error(accounts)
    print("python example: every step behaved as the contract says")


if __name__ == "__main__":
    main()
