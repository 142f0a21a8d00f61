import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.LongDeserializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;

/**
 * A Kafka Streams 4.4 application with processing.guarantee=exactly_once_v2 for broker/test/txn-streams.test.ts:
 * input (key: a user, value: a region) -> grouped by the region (a repartition topic `<app>-by-region-repartition`,
 * whose values are user|region)
 * -> counted in the state store `region-counts` (changelog `<app>-region-counts-changelog`) -> output (region ->
 * count, Long).
 *
 * Arguments: bootstrap appId input output stateDir expectedTotal timeoutMs sleepEvery
 *
 * `sleepEvery` > 0 slows the application down (1 ms every that many input records) so that a test can kill
 * the broker while it is still working; `SEEN <n>` is printed every 500 input records processed (again after a
 * failure: records processed twice but committed once count twice here). A read_committed consumer (no group) reads the output from the
 * beginning, keeps the last count per region and prints `PROGRESS <sum>` as it grows; when the sum equals
 * `expectedTotal` the application is closed and the counts printed as `COUNTS {...}`. Exit 0 then; 1 on a
 * timeout, an application failure or a sum above the total (`FAIL reason`).
 */
public final class TxnCountApp {
  public static void main(String[] args) throws Exception {
    String bootstrap = args[0];
    String appId = args[1];
    String input = args[2];
    String output = args[3];
    String stateDir = args[4];
    long expectedTotal = Long.parseLong(args[5]);
    long timeoutMs = Long.parseLong(args[6]);
    int sleepEvery = Integer.parseInt(args[7]);

    AtomicLong seen = new AtomicLong();
    StreamsBuilder builder = new StreamsBuilder();
    builder.stream(input, Consumed.with(Serdes.String(), Serdes.String()))
        .peek((user, region) -> {
          long n = seen.incrementAndGet();
          if (n % 500 == 0) System.out.println("SEEN " + n);
          if (sleepEvery > 0 && n % sleepEvery == 0) {
            try {
              Thread.sleep(1);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
        })
        // The repartition topic carries user|region, so that a test can find a record written twice.
        .mapValues((user, region) -> user + "|" + region)
        .groupBy((user, userRegion) -> userRegion.substring(userRegion.indexOf('|') + 1),
            Grouped.with("by-region", Serdes.String(), Serdes.String()))
        .count(Materialized.as("region-counts"))
        .toStream()
        .to(output, Produced.with(Serdes.String(), Serdes.Long()));

    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, appId);
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir);
    props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
    props.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, 1);
    props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 100);
    // Keep what was written to the repartition topic (Streams deletes consumed records every 30 s by default).
    props.put(StreamsConfig.REPARTITION_PURGE_INTERVAL_MS_CONFIG, 3_600_000);
    props.put(StreamsConfig.consumerPrefix("fetch.max.wait.ms"), 100);
    props.put(StreamsConfig.consumerPrefix("heartbeat.interval.ms"), 300);
    props.put(StreamsConfig.producerPrefix("linger.ms"), 5);
    props.put(StreamsConfig.producerPrefix("transaction.timeout.ms"), 20000);
    props.put(StreamsConfig.producerPrefix("reconnect.backoff.max.ms"), 500);
    props.put(StreamsConfig.consumerPrefix("reconnect.backoff.max.ms"), 500);

    KafkaStreams streams = new KafkaStreams(builder.build(), props);
    // A broker that goes away mid-transaction may fail the stream thread; replacing it is how an application
    // recovers (the test sees how often from the UNCAUGHT lines).
    streams.setUncaughtExceptionHandler(e -> {
      System.out.println("UNCAUGHT " + e.toString().replace('\n', ' '));
      return org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD;
    });
    streams.setStateListener((now, before) -> System.out.println("STATE " + before + " -> " + now));
    streams.start();

    Map<String, Long> counts = new TreeMap<>();
    boolean done = false;
    long deadline = System.currentTimeMillis() + timeoutMs;
    Properties cprops = new Properties();
    cprops.put("bootstrap.servers", bootstrap);
    cprops.put("key.deserializer", StringDeserializer.class.getName());
    cprops.put("value.deserializer", LongDeserializer.class.getName());
    cprops.put("isolation.level", "read_committed");
    cprops.put("fetch.max.wait.ms", "100");
    cprops.put("allow.auto.create.topics", "false");
    cprops.put("reconnect.backoff.max.ms", "500");
    long lastSum = -1;
    try (KafkaConsumer<String, Long> reader = new KafkaConsumer<>(cprops)) {
      List<TopicPartition> partitions = null;
      while (System.currentTimeMillis() < deadline && streams.state() != KafkaStreams.State.ERROR
          && streams.state() != KafkaStreams.State.NOT_RUNNING) {
        if (partitions == null) {
          List<PartitionInfo> infos;
          try {
            infos = reader.partitionsFor(output, Duration.ofSeconds(5));
          } catch (org.apache.kafka.common.errors.TimeoutException e) {
            continue;
          }
          if (infos == null || infos.isEmpty()) {
            Thread.sleep(200);
            continue;
          }
          partitions = infos.stream().map(i -> new TopicPartition(i.topic(), i.partition())).toList();
          reader.assign(partitions);
          reader.seekToBeginning(partitions);
        }
        for (ConsumerRecord<String, Long> r : reader.poll(Duration.ofMillis(200))) counts.put(r.key(), r.value());
        long sum = 0;
        for (long c : counts.values()) sum += c;
        if (sum != lastSum) {
          System.out.println("PROGRESS " + sum);
          lastSum = sum;
        }
        if (sum == expectedTotal) {
          done = true;
          break;
        }
        if (sum > expectedTotal) {
          System.out.println("FAIL counts add up to " + sum + ", more than the " + expectedTotal + " records produced");
          break;
        }
      }
    }
    if (!done && lastSum <= expectedTotal) {
      System.out.println("FAIL output did not converge in " + timeoutMs + " ms (state " + streams.state() + ", sum "
          + lastSum + ")");
    }
    streams.close(CloseOptions.groupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP)
        .withTimeout(Duration.ofSeconds(20)));
    StringBuilder sb = new StringBuilder("{");
    for (Map.Entry<String, Long> e : counts.entrySet()) {
      if (sb.length() > 1) sb.append(',');
      sb.append('"').append(e.getKey()).append("\":").append(e.getValue());
    }
    System.out.println("COUNTS " + sb.append('}'));
    System.out.flush();
    System.exit(done ? 0 : 1);
  }
}
