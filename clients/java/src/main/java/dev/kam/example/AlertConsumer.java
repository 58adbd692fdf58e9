package dev.kam.example;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cloudevents.CloudEvent;
import io.cloudevents.core.format.EventFormat;
import io.cloudevents.core.provider.EventFormatProvider;
import io.cloudevents.jackson.JsonFormat;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Follows kam's alert stream (the Kafka topic kam.alerts.v1) the way an operations team's
 * consumer would: each record is a CloudEvent in structured JSON mode, decoded with the
 * CloudEvents Java SDK's JSON format; only committed records are read (kam publishes in Kafka
 * transactions); an event seen before (same id, "&lt;alert id&gt;/&lt;etag&gt;", e.g. after a
 * consumer restart) is skipped.
 *
 * <pre>
 *   clients/java/run alert-consumer --brokers 127.0.0.1:9092 [--group ops-pager]
 *       [--max-events N] [--idle-seconds S] [--until-manager ID]
 * </pre>
 *
 * <p>Prints one line per alert change. It stops after --max-events changes, after the first
 * change of an alert about manager --until-manager, or after --idle-seconds without a record; it
 * exits 1 when it saw no change (or, with --until-manager, none about that manager).
 */
public final class AlertConsumer {
  private AlertConsumer() {}

  public static void main(String[] args) throws Exception {
    String brokers = null;
    String group = "kam-java-alert-consumer";
    String topic = "kam.alerts.v1";
    int maxEvents = 0;
    double idleSeconds = 0;
    String untilManager = "";
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--brokers" -> brokers = args[i + 1];
        case "--group" -> group = args[i + 1];
        case "--topic" -> topic = args[i + 1];
        case "--max-events" -> maxEvents = Integer.parseInt(args[i + 1]);
        case "--idle-seconds" -> idleSeconds = Double.parseDouble(args[i + 1]);
        case "--until-manager" -> untilManager = args[i + 1];
        default -> {
          System.err.println("alert consumer: unknown option " + args[i]);
          System.exit(2);
        }
      }
    }
    if (brokers == null) {
      System.err.println("alert consumer: --brokers is required");
      System.exit(2);
    }
    Properties config = new Properties();
    config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
    config.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    EventFormat format = EventFormatProvider.getInstance().resolveFormat(JsonFormat.CONTENT_TYPE);
    ObjectMapper json = new ObjectMapper();
    Set<String> seen = new HashSet<>();
    int events = 0;
    boolean found = false;
    long lastRecord = System.nanoTime();
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(config)) {
      consumer.subscribe(List.of(topic));
      while ((maxEvents == 0 || events < maxEvents) && !found) {
        if (idleSeconds > 0 && (System.nanoTime() - lastRecord) / 1e9 > idleSeconds) {
          break;
        }
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(500))) {
          lastRecord = System.nanoTime();
          CloudEvent event = format.deserialize(record.value());
          if (!seen.add(event.getId())) {
            continue; // a change delivered again after a restart: handled already
          }
          events++;
          JsonNode alert =
              event.getData() == null
                  ? json.createObjectNode()
                  : json.readTree(new String(event.getData().toBytes(), StandardCharsets.UTF_8));
          System.out.printf(
              "%s %s %s %s: %s%n",
              event.getType(),
              event.getSubject(),
              alert.path("rule").asText("?"),
              alert.path("state").asText("?"),
              alert.path("summary").asText(""));
          if (!untilManager.isEmpty() && alert.path("manager_id").asText("").equals(untilManager)) {
            found = true;
            break;
          }
        }
      }
    }
    if (events == 0 || (!untilManager.isEmpty() && !found)) {
      System.err.println("alert consumer: no alert change arrived");
      System.exit(1);
    }
  }
}
