// What a platform does with kam, in Go: the calls a ticketing integration makes.
//
//  1. Creates a manager and the accounts they own (request ids: a retry never creates twice).
//  2. Records a burst of interactions in one BatchRecordInteractions call, each with a request id;
//     an item for an unknown account is refused on its own, with its reason. The whole batch is
//     sent again, as a retry would be: the same interactions come back, nothing is recorded twice.
//  3. Reads the account's health.
//  4. Follows WatchAlerts: sees the manager's overload alert, disconnects, acknowledges the alert,
//     and reconnects with the last resume token -- the next change is the acknowledgement.
//  5. Decodes a rich error: every bad field of a refused request, and its stable reason.
//
// The channels use kam's published service config (api/service-config.json). Run with
// clients/go/run example; addresses from KAM_ACCOUNTS_ADDR, KAM_INTERACTIONS_ADDR and
// KAM_ALERTS_ADDR. Exits non-zero when kam did not behave as its contract says.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"time"

	"github.com/google/uuid"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	kamv1 "kam.example/clients/go/internal/kamv1"
)

const callTimeout = 15 * time.Second

func check(ok bool, format string, args ...any) {
	if !ok {
		fmt.Fprintf(os.Stderr, "FAILED: "+format+"\n", args...)
		os.Exit(1)
	}
}

func must[T any](value T, err error) T {
	check(err == nil, "%v", err)
	return value
}

func requestID() string { return "go-example-" + uuid.NewString() }

func dial(address, serviceConfig string) *grpc.ClientConn {
	return must(grpc.NewClient(address,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultServiceConfig(serviceConfig)))
}

func env(name, fallback string) string {
	if value := os.Getenv(name); value != "" {
		return value
	}
	return fallback
}

func call() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), callTimeout)
}

func createBook(accounts kamv1.AccountsServiceClient, run string) (*kamv1.Manager, []*kamv1.Account) {
	ctx, cancel := call()
	defer cancel()
	manager := must(accounts.CreateManager(ctx, &kamv1.CreateManagerRequest{
		RequestId: requestID(),
		Manager:   &kamv1.Manager{Name: "Gus Go", Email: "gus-" + run + "@example.com", Capacity: 1},
	}))
	var owned []*kamv1.Account
	for i := 0; i < 3; i++ {
		owned = append(owned, must(accounts.CreateAccount(ctx, &kamv1.CreateAccountRequest{
			RequestId: requestID(),
			Account: &kamv1.Account{
				Name:           fmt.Sprintf("Go Customer %d", i),
				Industry:       kamv1.Industry_INDUSTRY_SERVICES,
				AnnualRevenue:  &kamv1.Money{AmountMinor: 500_000_000, Currency: "EUR"},
				OwnerManagerId: manager.Id,
			},
		})))
	}
	fmt.Printf("created manager %s owning %d accounts (capacity 1)\n", manager.Id, len(owned))
	return manager, owned
}

func recordBurst(interactions kamv1.InteractionsServiceClient, accountID string) {
	batch := &kamv1.BatchRecordInteractionsRequest{}
	for i, nps := range []int32{9, 7, 3, 2, 8, 1, 10, 4} {
		batch.Requests = append(batch.Requests, &kamv1.RecordInteractionRequest{
			RequestId: requestID(),
			Interaction: &kamv1.Interaction{
				AccountId:    accountID,
				Type:         kamv1.InteractionType_INTERACTION_TYPE_SURVEY,
				Channel:      kamv1.Channel_CHANNEL_EMAIL,
				OccurTime:    timestamppb.New(time.Now().Add(-time.Duration(60-i) * time.Minute)),
				Survey:       &kamv1.Survey{Score: &kamv1.Survey_Nps{Nps: nps}},
				SourceSystem: "go-example",
			},
		})
	}
	batch.Requests = append(batch.Requests, &kamv1.RecordInteractionRequest{
		RequestId: requestID(),
		Interaction: &kamv1.Interaction{
			AccountId: "acc_not_in_the_book",
			Type:      kamv1.InteractionType_INTERACTION_TYPE_CALL,
			OccurTime: timestamppb.Now(),
		},
	})
	ctx, cancel := call()
	defer cancel()
	first := must(interactions.BatchRecordInteractions(ctx, batch))
	check(len(first.Results) == 9, "one result per item, got %d", len(first.Results))
	for _, result := range first.Results[:8] {
		check(result.Code == 0, "item %d: %s", result.Index, result.Error)
	}
	unknown := first.Results[8]
	check(codes.Code(unknown.Code) == codes.NotFound && unknown.Reason == "ACCOUNT_NOT_FOUND",
		"the unknown account's item is refused alone: %v %q", codes.Code(unknown.Code), unknown.Reason)
	// The batch again, as a retry after a lost answer: the same interactions, none twice.
	again := must(interactions.BatchRecordInteractions(ctx, batch))
	for i := 0; i < 8; i++ {
		check(again.Results[i].Interaction.Id == first.Results[i].Interaction.Id,
			"item %d recorded twice", i)
	}
	fmt.Printf("recorded 8 answers in one batch; the unknown account's item was refused with %s; "+
		"the retried batch recorded nothing twice\n", unknown.Reason)
}

func readHealth(interactions kamv1.InteractionsServiceClient, accountID string) {
	ctx, cancel := call()
	defer cancel()
	health := must(interactions.GetAccountHealth(ctx,
		&kamv1.GetAccountHealthRequest{AccountId: accountID}))
	fmt.Printf("health of %s: NPS %.0f from %d answers\n", accountID, health.Nps,
		health.NpsResponses)
	check(health.NpsResponses == 8, "every recorded answer counts once, got %d",
		health.NpsResponses)
}

func overloadAcrossReconnect(alerts kamv1.AlertsServiceClient, managerID string) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	stream := must(alerts.WatchAlerts(ctx, &kamv1.WatchAlertsRequest{}))
	var overload *kamv1.Alert
	token := ""
	for overload == nil {
		change := must(stream.Recv())
		token = change.ResumeToken
		if change.Alert.Rule == kamv1.AlertRule_ALERT_RULE_MANAGER_OVERLOADED &&
			change.Alert.ManagerId == managerID {
			overload = change.Alert
		}
	}
	cancel() // the disconnect
	fmt.Printf("overload %s fired: %s\n", overload.Id, overload.Summary)

	callCtx, callCancel := call()
	defer callCancel()
	must(alerts.AcknowledgeAlert(callCtx, &kamv1.AcknowledgeAlertRequest{
		Id: overload.Id, Etag: overload.Etag, AcknowledgedBy: "go-example"}))

	ctx, cancel = context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	stream = must(alerts.WatchAlerts(ctx, &kamv1.WatchAlertsRequest{ResumeToken: token}))
	for {
		change := must(stream.Recv())
		if change.Alert.Id != overload.Id {
			continue
		}
		check(change.Kind == kamv1.AlertChangeKind_ALERT_CHANGE_KIND_ACKNOWLEDGED,
			"after the resume token comes the acknowledgement, not %v", change.Kind)
		break
	}
	fmt.Println("reconnected with the resume token: the acknowledgement came next, nothing repeated")
}

func richError(accounts kamv1.AccountsServiceClient) {
	ctx, cancel := call()
	defer cancel()
	_, err := accounts.CreateAccount(ctx, &kamv1.CreateAccountRequest{
		RequestId: requestID(),
		Account: &kamv1.Account{
			Name:          "",
			Industry:      kamv1.Industry_INDUSTRY_SERVICES,
			Regions:       []string{"XX"},
			AnnualRevenue: &kamv1.Money{AmountMinor: -1, Currency: "EUR"},
		},
	})
	check(err != nil, "a request with bad fields is refused")
	refused := status.Convert(err)
	reason, fields := "", []string{}
	for _, detail := range refused.Details() {
		switch d := detail.(type) {
		case *errdetails.ErrorInfo:
			reason = d.Reason
		case *errdetails.BadRequest:
			for _, violation := range d.FieldViolations {
				fields = append(fields, violation.Field)
			}
		}
	}
	fmt.Printf("refused with %v, reason %s: %v\n", refused.Code(), reason, fields)
	check(refused.Code() == codes.InvalidArgument, "INVALID_ARGUMENT, got %v", refused.Code())
	check(reason == "INVALID_FIELD", "reason INVALID_FIELD, got %q", reason)
	check(reflect.DeepEqual(fields, []string{"account.name", "account.regions[0]",
		"account.annual_revenue.amount_minor"}), "every bad field named, got %v", fields)
}

func main() {
	configPath := env("KAM_SERVICE_CONFIG", filepath.Join("..", "..", "api", "service-config.json"))
	serviceConfig := string(must(os.ReadFile(configPath)))
	accounts := kamv1.NewAccountsServiceClient(
		dial(env("KAM_ACCOUNTS_ADDR", "127.0.0.1:50051"), serviceConfig))
	interactions := kamv1.NewInteractionsServiceClient(
		dial(env("KAM_INTERACTIONS_ADDR", "127.0.0.1:50052"), serviceConfig))
	alerts := kamv1.NewAlertsServiceClient(
		dial(env("KAM_ALERTS_ADDR", "127.0.0.1:50053"), serviceConfig))
	run := uuid.NewString()[:8]
	manager, owned := createBook(accounts, run)
	recordBurst(interactions, owned[0].Id)
	readHealth(interactions, owned[0].Id)
	overloadAcrossReconnect(alerts, manager.Id)
	richError(accounts)
	fmt.Println("go example: every step behaved as the contract says")
}
