import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicReference;
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
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;

/**
 * A Kafka Streams word count for the broker tests: input topic (one word per record, any key) ->
 * re-keyed by the word (a repartition topic `<app>-words-repartition`) -> counted in the state store
 * `word-counts` (changelog `<app>-word-counts-changelog`, compacted) -> output topic (word -> count, Long).
 *
 * Arguments: bootstrap appId input output stateDir expectedTotal timeoutMs
 *
 * Runs the application while a plain consumer (no group) reads the output topic from the beginning and
 * keeps the last count per word; when those add up to `expectedTotal` (every input word counted) the
 * application is closed and the counts are printed as `COUNTS {...}` (JSON). Exit 0 then, 1 on timeout
 * or when the application failed (`FAIL reason`).
 */
public final class WordCountApp {
  public static void main(String[] args) throws Exception {
    String bootstrap = args[0];
    String appId = args[1];
    String input = args[2];
    String output = args[3];
    String stateDir = args[4];
    long expectedTotal = Long.parseLong(args[5]);
    long timeoutMs = Long.parseLong(args[6]);

    StreamsBuilder builder = new StreamsBuilder();
    builder.stream(input, Consumed.with(Serdes.String(), Serdes.String()))
        .selectKey((key, word) -> word)
        .groupByKey(Grouped.with("words", Serdes.String(), Serdes.String()))
        .count(Materialized.as("word-counts"))
        .toStream()
        .to(output, Produced.with(Serdes.String(), Serdes.Long()));
    Topology topology = builder.build();
    System.out.println("TOPOLOGY " + topology.describe().toString().replace('\n', ' '));

    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, appId);
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.AT_LEAST_ONCE);
    props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir);
    props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
    props.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, 1);
    props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 200);
    props.put(StreamsConfig.consumerPrefix("fetch.max.wait.ms"), 100);
    props.put(StreamsConfig.consumerPrefix("heartbeat.interval.ms"), 300);
    props.put(StreamsConfig.producerPrefix("linger.ms"), 5);

    KafkaStreams streams = new KafkaStreams(topology, props);
    AtomicReference<Throwable> failure = new AtomicReference<>();
    streams.setUncaughtExceptionHandler(e -> {
      failure.compareAndSet(null, e);
      return org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
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
    cprops.put("fetch.max.wait.ms", "100");
    cprops.put("allow.auto.create.topics", "false");
    try (KafkaConsumer<String, Long> reader = new KafkaConsumer<>(cprops)) {
      List<TopicPartition> partitions = null;
      while (System.currentTimeMillis() < deadline && failure.get() == null && streams.state() != KafkaStreams.State.ERROR) {
        if (partitions == null) {
          // The output topic exists once the application wrote to it (or the test created it).
          List<PartitionInfo> infos = reader.partitionsFor(output, Duration.ofSeconds(5));
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
        if (sum == expectedTotal) {
          done = true;
          break;
        }
        if (sum > expectedTotal) {
          System.out.println("FAIL counts add up to " + sum + ", more than the " + expectedTotal + " words produced");
          break;
        }
      }
    }
    // Leave the group on the way out (Streams stays a member until its session times out otherwise), so that
    // a next run of the application is assigned the tasks at once.
    streams.close(CloseOptions.groupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP).withTimeout(Duration.ofSeconds(20)));
    if (failure.get() != null) {
      System.out.println("FAIL the application failed: " + failure.get());
      failure.get().printStackTrace(System.out);
    } else if (!done) {
      System.out.println("FAIL output did not converge in " + timeoutMs + " ms (state " + streams.state() + ")");
    }
    StringBuilder sb = new StringBuilder("{");
    for (Map.Entry<String, Long> e : counts.entrySet()) {
      if (sb.length() > 1) sb.append(',');
      sb.append('"').append(e.getKey()).append("\":").append(e.getValue());
    }
    System.out.println("COUNTS " + sb.append('}'));
    System.exit(done && failure.get() == null ? 0 : 1);
  }
}
