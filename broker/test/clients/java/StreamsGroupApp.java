import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.time.Duration;
import java.util.Properties;
import java.util.TreeSet;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.ThreadMetadata;
import org.apache.kafka.streams.TaskMetadata;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;

/**
 * One instance of a word count on the streams rebalance protocol (KIP-1071, group.protocol=streams) for
 * the broker tests: input (one word per record) -> re-keyed by word (repartition topic `<app>-words-repartition`)
 * -> counted in the store `word-counts` (changelog `<app>-word-counts-changelog`) -> output (word -> count).
 *
 * Arguments: bootstrap appId input output stateDir [guarantee: at_least_once (default) or exactly_once_v2]
 *
 * Prints `STATE <old> -> <new>` on every state change and `TASKS active=[..] standby=[..]` whenever the
 * tasks of this instance change. Runs until a line `close` (or the end) on stdin, then leaves the group,
 * prints `CLOSED` and exits 0 (1 when the application failed: `FAIL reason`).
 */
public final class StreamsGroupApp {
  public static void main(String[] args) throws Exception {
    String bootstrap = args[0];
    String appId = args[1];
    String input = args[2];
    String output = args[3];
    String stateDir = args[4];
    String guarantee = args.length > 5 ? args[5] : StreamsConfig.AT_LEAST_ONCE;

    StreamsBuilder builder = new StreamsBuilder();
    builder.stream(input, Consumed.with(Serdes.String(), Serdes.String()))
        .selectKey((key, word) -> word)
        .groupByKey(Grouped.with("words", Serdes.String(), Serdes.String()))
        .count(Materialized.as("word-counts"))
        .toStream()
        .to(output, Produced.with(Serdes.String(), Serdes.Long()));

    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, appId);
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(StreamsConfig.GROUP_PROTOCOL_CONFIG, "streams");
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, guarantee);
    props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir);
    props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
    props.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, 1);
    props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 200);
    props.put(StreamsConfig.consumerPrefix("fetch.max.wait.ms"), 100);
    props.put(StreamsConfig.producerPrefix("linger.ms"), 5);

    KafkaStreams streams = new KafkaStreams(builder.build(), props);
    StringBuilder failure = new StringBuilder();
    streams.setUncaughtExceptionHandler(e -> {
      synchronized (failure) {
        if (failure.length() == 0) failure.append(e);
      }
      return org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
    });
    streams.setStateListener((now, before) -> System.out.println("STATE " + before + " -> " + now));
    streams.start();

    // Reports this instance's tasks while it runs; stdin says when to stop.
    Thread reporter = new Thread(() -> {
      String last = "";
      while (!Thread.currentThread().isInterrupted()) {
        try {
          TreeSet<String> active = new TreeSet<>();
          TreeSet<String> standby = new TreeSet<>();
          for (ThreadMetadata t : streams.metadataForLocalThreads()) {
            for (TaskMetadata task : t.activeTasks()) active.add(task.taskId().toString());
            for (TaskMetadata task : t.standbyTasks()) standby.add(task.taskId().toString());
          }
          String now = "active=" + active + " standby=" + standby;
          if (!now.equals(last) && streams.state() == KafkaStreams.State.RUNNING) {
            System.out.println("TASKS " + now.replace(" ", ""));
            last = now;
          }
          Thread.sleep(100);
        } catch (InterruptedException e) {
          return;
        } catch (RuntimeException e) {
          // metadata not available in this state; try again
        }
      }
    });
    reporter.setDaemon(true);
    reporter.start();

    BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
    for (String line = in.readLine(); line != null && !line.trim().equals("close"); line = in.readLine()) {
      // wait
    }
    reporter.interrupt();
    streams.close(CloseOptions.groupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP).withTimeout(Duration.ofSeconds(20)));
    synchronized (failure) {
      if (failure.length() > 0) {
        System.out.println("FAIL " + failure);
        System.exit(1);
      }
    }
    System.out.println("CLOSED");
    System.exit(0);
  }
}
