// Follows kam's alert stream (the Kafka topic kam.alerts.v1) the way an operations team's
// consumer would: each record is a CloudEvent in structured JSON mode, decoded with the
// CloudEvents Go SDK; only committed records are read (kam publishes in Kafka transactions); an
// event seen before (same id, "<alert id>/<etag>", e.g. after a consumer restart) is skipped.
//
//	clients/go/run alert-consumer --brokers 127.0.0.1:9092 [--group ops-pager]
//	    [--max-events N] [--idle-seconds S] [--until-manager ID]
//
// Prints one line per alert change. It stops after --max-events changes, after the first change
// of an alert about manager --until-manager, or after --idle-seconds without a record; it exits
// 1 when it saw no change (or, with --until-manager, none about that manager).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/twmb/franz-go/pkg/kgo"
)

func main() {
	brokers := flag.String("brokers", "", "Kafka bootstrap servers (required)")
	group := flag.String("group", "kam-go-alert-consumer", "consumer group")
	topic := flag.String("topic", "kam.alerts.v1", "the alert stream")
	maxEvents := flag.Int("max-events", 0, "stop after this many changes (0 = follow forever)")
	idleSeconds := flag.Float64("idle-seconds", 0, "stop after this long without a record (0 = never)")
	untilManager := flag.String("until-manager", "", "stop at this manager's first alert change")
	flag.Parse()
	if *brokers == "" {
		fmt.Fprintln(os.Stderr, "alert consumer: --brokers is required")
		os.Exit(2)
	}
	client, err := kgo.NewClient(
		kgo.SeedBrokers(*brokers),
		kgo.ConsumerGroup(*group),
		kgo.ConsumeTopics(*topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
	)
	if err != nil {
		fmt.Fprintln(os.Stderr, "alert consumer:", err)
		os.Exit(2)
	}
	defer client.Close()

	seen := map[string]bool{}
	events, found := 0, false
	lastRecord := time.Now()
	for (*maxEvents == 0 || events < *maxEvents) && !found {
		if *idleSeconds > 0 && time.Since(lastRecord).Seconds() > *idleSeconds {
			break
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		fetches := client.PollFetches(ctx)
		cancel()
		fetches.EachError(func(topic string, partition int32, err error) {
			if err != context.DeadlineExceeded {
				fmt.Fprintf(os.Stderr, "kafka: %s[%d]: %v\n", topic, partition, err)
			}
		})
		fetches.EachRecord(func(record *kgo.Record) {
			lastRecord = time.Now()
			if found {
				return
			}
			event := cloudevents.NewEvent()
			if err := json.Unmarshal(record.Value, &event); err != nil {
				fmt.Fprintf(os.Stderr, "not a CloudEvent at %s[%d]@%d: %v\n", record.Topic,
					record.Partition, record.Offset, err)
				return
			}
			if seen[event.ID()] {
				return // a change delivered again after a restart: handled already
			}
			seen[event.ID()] = true
			events++
			var alert struct {
				Rule      string `json:"rule"`
				State     string `json:"state"`
				Summary   string `json:"summary"`
				ManagerID string `json:"manager_id"`
			}
			_ = event.DataAs(&alert) // the Alert, as protobuf JSON; missing fields stay empty
			fmt.Printf("%s %s %s %s: %s\n", event.Type(), event.Subject(), alert.Rule, alert.State,
				alert.Summary)
			found = *untilManager != "" && alert.ManagerID == *untilManager
		})
	}
	if events == 0 || (*untilManager != "" && !found) {
		fmt.Fprintln(os.Stderr, "alert consumer: no alert change arrived")
		os.Exit(1)
	}
}
