package dev.kam.example;

import com.google.gson.Gson;
import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Timestamp;
import com.google.rpc.BadRequest;
import com.google.rpc.ErrorInfo;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import kam.v1.Accounts.Account;
import kam.v1.Accounts.CreateAccountRequest;
import kam.v1.Accounts.CreateManagerRequest;
import kam.v1.Accounts.Manager;
import kam.v1.Alerts.AcknowledgeAlertRequest;
import kam.v1.Alerts.Alert;
import kam.v1.Alerts.AlertChange;
import kam.v1.Alerts.AlertChangeKind;
import kam.v1.Alerts.AlertRule;
import kam.v1.Alerts.WatchAlertsRequest;
import kam.v1.AccountsServiceGrpc;
import kam.v1.AlertsServiceGrpc;
import kam.v1.Common.Industry;
import kam.v1.Common.Money;
import kam.v1.Interactions.AccountHealth;
import kam.v1.Interactions.Channel;
import kam.v1.Interactions.GetAccountHealthRequest;
import kam.v1.Interactions.Interaction;
import kam.v1.Interactions.InteractionType;
import kam.v1.Interactions.RecordInteractionRequest;
import kam.v1.Interactions.Survey;
import kam.v1.InteractionsServiceGrpc;

/**
 * What a platform does with kam, in Java: the calls a CRM makes.
 *
 * <ol>
 *   <li>Creates a manager and the accounts they own (request ids: a retry never creates twice).
 *   <li>Records a burst of survey answers with request ids; one is sent twice, as a retry would.
 *   <li>Reads the account's health.
 *   <li>Follows WatchAlerts: sees the manager's overload alert, disconnects, acknowledges the
 *       alert, and reconnects with the last resume token -- the next change is the
 *       acknowledgement, nothing repeated, nothing skipped.
 *   <li>Decodes a rich error: every bad field of a refused request, and its stable reason.
 * </ol>
 *
 * <p>The channels use kam's published service config (api/service-config.json). Run with
 * clients/java/run example; addresses from KAM_ACCOUNTS_ADDR, KAM_INTERACTIONS_ADDR and
 * KAM_ALERTS_ADDR. Exits non-zero when kam did not behave as its contract says.
 */
public final class KamExample {
  private static final long CALL_TIMEOUT_SECONDS = 15;

  private KamExample() {}

  static void check(boolean ok, String what) {
    if (!ok) {
      System.err.println("FAILED: " + what);
      System.exit(1);
    }
  }

  static String requestId() {
    return "java-example-" + UUID.randomUUID();
  }

  static String env(String name, String fallback) {
    String value = System.getenv(name);
    return value == null || value.isEmpty() ? fallback : value;
  }

  @SuppressWarnings("unchecked")
  static ManagedChannel channel(String address, String serviceConfig) {
    return ManagedChannelBuilder.forTarget(address)
        .usePlaintext()
        .defaultServiceConfig(new Gson().fromJson(serviceConfig, Map.class))
        .enableRetry()
        .build();
  }

  static Timestamp minutesAgo(int minutes) {
    Instant at = Instant.now().minusSeconds(60L * minutes);
    return Timestamp.newBuilder().setSeconds(at.getEpochSecond()).setNanos(at.getNano()).build();
  }

  public static void main(String[] args) throws Exception {
    String serviceConfig =
        Files.readString(
            Path.of(env("KAM_SERVICE_CONFIG", Path.of("..", "..", "api", "service-config.json")
                .toString())));
    ManagedChannel accountsChannel =
        channel(env("KAM_ACCOUNTS_ADDR", "127.0.0.1:50051"), serviceConfig);
    ManagedChannel interactionsChannel =
        channel(env("KAM_INTERACTIONS_ADDR", "127.0.0.1:50052"), serviceConfig);
    ManagedChannel alertsChannel = channel(env("KAM_ALERTS_ADDR", "127.0.0.1:50053"), serviceConfig);
    var accounts = AccountsServiceGrpc.newBlockingStub(accountsChannel);
    var interactions = InteractionsServiceGrpc.newBlockingStub(interactionsChannel);
    var alerts = AlertsServiceGrpc.newBlockingStub(alertsChannel);
    String run = UUID.randomUUID().toString().substring(0, 8);

    // 1. The book.
    Manager manager =
        accounts
            .withDeadlineAfter(CALL_TIMEOUT_SECONDS, TimeUnit.SECONDS)
            .createManager(
                CreateManagerRequest.newBuilder()
                    .setRequestId(requestId())
                    .setManager(
                        Manager.newBuilder()
                            .setName("Jo Java")
                            .setEmail("jo-" + run + "@example.com")
                            .setCapacity(1))
                    .build());
    List<Account> owned = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      owned.add(
          accounts
              .withDeadlineAfter(CALL_TIMEOUT_SECONDS, TimeUnit.SECONDS)
              .createAccount(
                  CreateAccountRequest.newBuilder()
                      .setRequestId(requestId())
                      .setAccount(
                          Account.newBuilder()
                              .setName("Java Customer " + i)
                              .setIndustry(Industry.INDUSTRY_SERVICES)
                              .setAnnualRevenue(
                                  Money.newBuilder()
                                      .setAmountMinor(500_000_000L)
                                      .setCurrency("EUR"))
                              .setOwnerManagerId(manager.getId()))
                      .build()));
    }
    System.out.printf(
        "created manager %s owning %d accounts (capacity 1)%n", manager.getId(), owned.size());

    // 2. A burst of answers, one retried.
    String accountId = owned.get(0).getId();
    int[] scores = {9, 7, 3, 2, 8, 1, 10, 4};
    List<RecordInteractionRequest> answers = new ArrayList<>();
    List<Interaction> recorded = new ArrayList<>();
    for (int i = 0; i < scores.length; i++) {
      RecordInteractionRequest answer =
          RecordInteractionRequest.newBuilder()
              .setRequestId(requestId())
              .setInteraction(
                  Interaction.newBuilder()
                      .setAccountId(accountId)
                      .setType(InteractionType.INTERACTION_TYPE_SURVEY)
                      .setChannel(Channel.CHANNEL_EMAIL)
                      .setOccurTime(minutesAgo(60 - i))
                      .setSurvey(Survey.newBuilder().setNps(scores[i]))
                      .setSourceSystem("java-example"))
              .build();
      answers.add(answer);
      recorded.add(
          interactions
              .withDeadlineAfter(CALL_TIMEOUT_SECONDS, TimeUnit.SECONDS)
              .recordInteraction(answer));
    }
    Interaction again =
        interactions
            .withDeadlineAfter(CALL_TIMEOUT_SECONDS, TimeUnit.SECONDS)
            .recordInteraction(answers.get(0));
    check(
        again.getId().equals(recorded.get(0).getId()),
        "a retried request_id records nothing twice");
    System.out.printf(
        "recorded %d survey answers; the retry returned %s again%n", recorded.size(), again.getId());

    // 3. Health.
    AccountHealth health =
        interactions
            .withDeadlineAfter(CALL_TIMEOUT_SECONDS, TimeUnit.SECONDS)
            .getAccountHealth(GetAccountHealthRequest.newBuilder().setAccountId(accountId).build());
    System.out.printf(
        "health of %s: NPS %.0f from %d answers%n",
        accountId, health.getNps(), health.getNpsResponses());
    check(health.getNpsResponses() == 8, "every recorded answer counts once");

    // 4. WatchAlerts across a reconnect.
    Alert overload = null;
    String token = "";
    try (Context.CancellableContext watch = Context.current().withCancellation()) {
      Context previous = watch.attach();
      try {
        Iterator<AlertChange> changes =
            alerts.withDeadlineAfter(60, TimeUnit.SECONDS)
                .watchAlerts(WatchAlertsRequest.getDefaultInstance());
        while (overload == null && changes.hasNext()) {
          AlertChange change = changes.next();
          token = change.getResumeToken();
          if (change.getAlert().getRule() == AlertRule.ALERT_RULE_MANAGER_OVERLOADED
              && change.getAlert().getManagerId().equals(manager.getId())) {
            overload = change.getAlert();
          }
        }
      } finally {
        watch.detach(previous);
      } // leaving the try cancels the stream: the disconnect
    }
    check(overload != null, "the manager's overload arrives on WatchAlerts");
    System.out.printf("overload %s fired: %s%n", overload.getId(), overload.getSummary());
    alerts
        .withDeadlineAfter(CALL_TIMEOUT_SECONDS, TimeUnit.SECONDS)
        .acknowledgeAlert(
            AcknowledgeAlertRequest.newBuilder()
                .setId(overload.getId())
                .setEtag(overload.getEtag())
                .setAcknowledgedBy("java-example")
                .build());
    try (Context.CancellableContext watch = Context.current().withCancellation()) {
      Context previous = watch.attach();
      try {
        Iterator<AlertChange> changes =
            alerts.withDeadlineAfter(60, TimeUnit.SECONDS)
                .watchAlerts(WatchAlertsRequest.newBuilder().setResumeToken(token).build());
        while (changes.hasNext()) {
          AlertChange change = changes.next();
          if (!change.getAlert().getId().equals(overload.getId())) {
            continue;
          }
          check(
              change.getKind() == AlertChangeKind.ALERT_CHANGE_KIND_ACKNOWLEDGED,
              "after the resume token comes the acknowledgement, not " + change.getKind());
          break;
        }
      } finally {
        watch.detach(previous);
      }
    }
    System.out.println(
        "reconnected with the resume token: the acknowledgement came next, nothing repeated");

    // 5. A rich error.
    try {
      accounts
          .withDeadlineAfter(CALL_TIMEOUT_SECONDS, TimeUnit.SECONDS)
          .createAccount(
              CreateAccountRequest.newBuilder()
                  .setRequestId(requestId())
                  .setAccount(
                      Account.newBuilder()
                          .setName("")
                          .setIndustry(Industry.INDUSTRY_SERVICES)
                          .addRegions("XX")
                          .setAnnualRevenue(
                              Money.newBuilder().setAmountMinor(-1).setCurrency("EUR")))
                  .build());
      check(false, "a request with bad fields is refused");
    } catch (StatusRuntimeException refused) {
      com.google.rpc.Status status = StatusProto.fromThrowable(refused);
      check(status != null, "the error carries a google.rpc.Status");
      String reason = "";
      List<String> fields = new ArrayList<>();
      for (Any detail : status.getDetailsList()) {
        try {
          if (detail.is(ErrorInfo.class)) {
            reason = detail.unpack(ErrorInfo.class).getReason();
          } else if (detail.is(BadRequest.class)) {
            for (var violation : detail.unpack(BadRequest.class).getFieldViolationsList()) {
              fields.add(violation.getField());
            }
          }
        } catch (InvalidProtocolBufferException e) {
          check(false, "a detail that does not parse: " + e);
        }
      }
      System.out.printf(
          "refused with %s, reason %s: %s%n", refused.getStatus().getCode(), reason, fields);
      check(refused.getStatus().getCode() == Status.Code.INVALID_ARGUMENT, "INVALID_ARGUMENT");
      check(reason.equals("INVALID_FIELD"), "reason INVALID_FIELD, got " + reason);
      check(
          fields.equals(
              List.of(
                  "account.name", "account.regions[0]", "account.annual_revenue.amount_minor")),
          "every bad field named, got " + fields);
    }

    for (ManagedChannel channel : List.of(accountsChannel, interactionsChannel, alertsChannel)) {
      channel.shutdown().awaitTermination(5, TimeUnit.SECONDS);
    }
    System.out.println("java example: every step behaved as the contract says");
  }
}
