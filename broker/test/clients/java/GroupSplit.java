import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.SubscriptionPattern;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * A consumer group of N members (one KafkaConsumer per thread, one JVM) for the broker tests.
 *
 * Arguments are key=value:
 *   bootstrap=HOST:PORT  group=ID  protocol=classic|consumer  members=N
 *   subscribe=topics:a,b | pattern:REGEX (java.util.regex.Pattern) | re2j:REGEX (SubscriptionPattern)
 *   expect=t:P,u:Q     the topics (and partition counts) the group must be assigned before producing; when
 *                      empty, every member must only have joined (its listener called, with no partitions)
 *   records=N          records produced to every partition of every expected topic, once assigned
 *   later=t:P          optional: a topic created after that; the group must pick it up and consume it too
 *   timeoutMs=MS       for each wait
 *
 * Each member commits after every poll that returned records. Output: one line per event, the last one
 * `RESULT {...}` (JSON); exit 0 when every record was consumed, 1 with a `FAIL reason` line otherwise.
 */
public final class GroupSplit {
  private static final Map<String, String> ARGS = new HashMap<>();
  private static final long START = System.currentTimeMillis();
  /** Marks this run's records. */
  private static final String runId = Long.toString(System.nanoTime(), 36);
  /** The members' assignments when they were last seen stable, for the result. */
  private static final List<String> stableAssignments = new ArrayList<>();
  /** The members that have joined: their rebalance listener was called with an assignment, maybe empty. */
  private static final Set<Integer> joined = ConcurrentHashMap.newKeySet();

  public static void main(String[] argv) throws Exception {
    for (String a : argv) {
      int eq = a.indexOf('=');
      ARGS.put(a.substring(0, eq), a.substring(eq + 1));
    }
    String bootstrap = arg("bootstrap", null);
    String group = arg("group", null);
    String protocol = arg("protocol", "classic");
    int members = Integer.parseInt(arg("members", "2"));
    String subscribe = arg("subscribe", null);
    Map<String, Integer> expect = topicCounts(arg("expect", ""));
    int records = Integer.parseInt(arg("records", "10"));
    Map<String, Integer> later = topicCounts(arg("later", ""));
    long timeoutMs = Long.parseLong(arg("timeoutMs", "30000"));

    List<Map<TopicPartition, Boolean>> assigned = new ArrayList<>();
    Map<String, Integer> received = new ConcurrentHashMap<>();
    List<Map<String, Integer>> perMember = new ArrayList<>();
    List<Throwable> errors = java.util.Collections.synchronizedList(new ArrayList<>());
    AtomicBoolean stop = new AtomicBoolean(false);
    List<Thread> threads = new ArrayList<>();
    for (int m = 0; m < members; m++) {
      Map<TopicPartition, Boolean> mine = new ConcurrentHashMap<>();
      Map<String, Integer> counts = new ConcurrentHashMap<>();
      assigned.add(mine);
      perMember.add(counts);
      final int member = m;
      Thread t = new Thread(() -> {
        try {
          consume(bootstrap, group, protocol, subscribe, member, mine, counts, received, stop);
        } catch (Throwable e) {
          errors.add(e);
          System.out.println("ERROR member " + member + " " + e);
          e.printStackTrace(System.out);
        }
      }, "member-" + m);
      t.start();
      threads.add(t);
    }

    try {
      Set<TopicPartition> want = partitions(expect);
      waitAssigned("initial", assigned, want, Math.min(members, want.size()), timeoutMs, errors);
      produce(bootstrap, expect, records);
      waitReceived(received, expect, records, timeoutMs, errors);
      if (!later.isEmpty()) {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
          List<NewTopic> create = new ArrayList<>();
          later.forEach((t, p) -> create.add(new NewTopic(t, p, (short) 1)));
          admin.createTopics(create).all().get();
        }
        event("created", "\"topics\":" + json(later.keySet()));
        Set<TopicPartition> all = new TreeSet<>(GroupSplit::compare);
        all.addAll(want);
        all.addAll(partitions(later));
        waitAssigned("later", assigned, all, 1, timeoutMs, errors);
        produce(bootstrap, later, records);
        Map<String, Integer> everything = new HashMap<>(expect);
        everything.putAll(later);
        waitReceived(received, everything, records, timeoutMs, errors);
      }
    } catch (Exception e) {
      System.out.println("FAIL " + e.getMessage());
      stop.set(true);
      for (Thread t : threads) t.join(timeoutMs);
      result(assigned, perMember, received);
      System.exit(1);
    }
    stop.set(true);
    for (Thread t : threads) t.join(timeoutMs);
    result(assigned, perMember, received);
    System.exit(errors.isEmpty() ? 0 : 1);
  }

  private static void consume(String bootstrap, String group, String protocol, String subscribe, int member,
      Map<TopicPartition, Boolean> mine, Map<String, Integer> counts, Map<String, Integer> received, AtomicBoolean stop) {
    Properties props = new Properties();
    props.put("bootstrap.servers", bootstrap);
    props.put("group.id", group);
    props.put("group.protocol", protocol);
    props.put("client.id", group + "-" + member);
    props.put("key.deserializer", StringDeserializer.class.getName());
    props.put("value.deserializer", StringDeserializer.class.getName());
    props.put("auto.offset.reset", "earliest");
    props.put("enable.auto.commit", "false");
    props.put("fetch.max.wait.ms", "100");
    props.put("metadata.max.age.ms", "1000");
    if (protocol.equals("classic")) {
      props.put("heartbeat.interval.ms", "300");
      props.put("session.timeout.ms", "10000");
    }
    ConsumerRebalanceListener listener = new ConsumerRebalanceListener() {
      @Override
      public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
        for (TopicPartition tp : partitions) mine.remove(tp);
        event("revoked", "\"member\":" + member + ",\"partitions\":" + json(partitions));
      }

      @Override
      public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
        for (TopicPartition tp : partitions) mine.put(tp, true);
        joined.add(member);
        event("assigned", "\"member\":" + member + ",\"partitions\":" + json(partitions));
      }

      @Override
      public void onPartitionsLost(Collection<TopicPartition> partitions) {
        for (TopicPartition tp : partitions) mine.remove(tp);
        event("lost", "\"member\":" + member + ",\"partitions\":" + json(partitions));
      }
    };
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props)) {
      int colon = subscribe.indexOf(':');
      String kind = subscribe.substring(0, colon);
      String what = subscribe.substring(colon + 1);
      switch (kind) {
        case "topics" -> consumer.subscribe(List.of(what.split(",")), listener);
        case "pattern" -> consumer.subscribe(Pattern.compile(what), listener);
        case "re2j" -> consumer.subscribe(new SubscriptionPattern(what), listener);
        default -> throw new IllegalArgumentException("subscribe=" + subscribe);
      }
      while (!stop.get()) {
        boolean got = false;
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(100))) {
          got = true;
          // Records of earlier runs (the topics may be reused) do not count.
          if (!r.value().startsWith(runId + "/")) continue;
          received.merge(r.value(), 1, Integer::sum);
          counts.merge(r.topic() + "-" + r.partition(), 1, Integer::sum);
        }
        if (got) consumer.commitSync();
      }
      consumer.commitSync();
    }
  }

  /**
   * Waits until every member has joined and the members' assignments are disjoint, cover `want` exactly, and at
   * least `nonEmpty` members hold some.
   */
  private static void waitAssigned(String phase, List<Map<TopicPartition, Boolean>> assigned, Set<TopicPartition> want, int nonEmpty,
      long timeoutMs, List<Throwable> errors) throws Exception {
    long deadline = System.currentTimeMillis() + timeoutMs;
    long stableSince = -1;
    for (;;) {
      if (!errors.isEmpty()) throw new Exception("a member failed: " + errors.get(0));
      Set<TopicPartition> union = new TreeSet<>(GroupSplit::compare);
      int total = 0;
      int holding = 0;
      for (Map<TopicPartition, Boolean> m : assigned) {
        Set<TopicPartition> keys = Set.copyOf(m.keySet());
        union.addAll(keys);
        total += keys.size();
        if (!keys.isEmpty()) holding++;
      }
      boolean ok = joined.size() == assigned.size() && union.equals(want) && total == want.size() && holding >= nonEmpty;
      long now = System.currentTimeMillis();
      if (ok) {
        if (stableSince < 0) stableSince = now;
        // Stable for a while: no rebalance still under way.
        if (now - stableSince >= 1000) {
          stableAssignments.clear();
          for (Map<TopicPartition, Boolean> m : assigned) stableAssignments.add(json(m.keySet()));
          event("stable", "\"phase\":\"" + phase + "\",\"assignments\":[" + String.join(",", stableAssignments) + "]");
          return;
        }
      } else {
        stableSince = -1;
      }
      if (now > deadline) throw new Exception(phase + ": assignment did not cover " + want + " (have " + union + ", " + holding + " members holding, " + joined.size() + " joined)");
      Thread.sleep(50);
    }
  }

  private static void produce(String bootstrap, Map<String, Integer> topics, int records) throws Exception {
    Properties props = new Properties();
    props.put("bootstrap.servers", bootstrap);
    props.put("key.serializer", StringSerializer.class.getName());
    props.put("value.serializer", StringSerializer.class.getName());
    props.put("linger.ms", "5");
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(props)) {
      for (Map.Entry<String, Integer> e : topics.entrySet()) {
        for (int p = 0; p < e.getValue(); p++) {
          for (int i = 0; i < records; i++) {
            producer.send(new ProducerRecord<>(e.getKey(), p, "k" + i, runId + "/" + e.getKey() + "/" + p + "/" + i)).get();
          }
        }
      }
    }
    event("produced", "\"topics\":" + json(topics.keySet()) + ",\"perPartition\":" + records);
  }

  private static void waitReceived(Map<String, Integer> received, Map<String, Integer> topics, int records, long timeoutMs, List<Throwable> errors)
      throws Exception {
    long deadline = System.currentTimeMillis() + timeoutMs;
    for (;;) {
      if (!errors.isEmpty()) throw new Exception("a member failed: " + errors.get(0));
      int missing = 0;
      for (Map.Entry<String, Integer> e : topics.entrySet()) {
        for (int p = 0; p < e.getValue(); p++) {
          for (int i = 0; i < records; i++) if (!received.containsKey(runId + "/" + e.getKey() + "/" + p + "/" + i)) missing++;
        }
      }
      if (missing == 0) return;
      if (System.currentTimeMillis() > deadline) throw new Exception(missing + " records of " + topics.keySet() + " not consumed");
      Thread.sleep(50);
    }
  }

  private static void result(List<Map<TopicPartition, Boolean>> assigned, List<Map<String, Integer>> perMember, Map<String, Integer> received) {
    StringBuilder sb = new StringBuilder("{\"members\":[");
    for (int m = 0; m < assigned.size(); m++) {
      if (m > 0) sb.append(',');
      sb.append("{\"assigned\":").append(m < stableAssignments.size() ? stableAssignments.get(m) : "[]").append(",\"consumed\":{");
      boolean first = true;
      for (Map.Entry<String, Integer> e : new java.util.TreeMap<>(perMember.get(m)).entrySet()) {
        if (!first) sb.append(',');
        first = false;
        sb.append('"').append(e.getKey()).append("\":").append(e.getValue());
      }
      sb.append("}}");
    }
    int duplicates = 0;
    for (int n : received.values()) duplicates += n - 1;
    sb.append("],\"distinct\":").append(received.size()).append(",\"duplicates\":").append(duplicates).append('}');
    System.out.println("RESULT " + sb);
  }

  private static String arg(String key, String fallback) {
    String v = ARGS.getOrDefault(key, fallback);
    if (v == null) throw new IllegalArgumentException("missing " + key + "=");
    return v;
  }

  private static Map<String, Integer> topicCounts(String spec) {
    Map<String, Integer> out = new java.util.LinkedHashMap<>();
    if (spec.isEmpty()) return out;
    for (String part : spec.split(",")) {
      int colon = part.lastIndexOf(':');
      out.put(part.substring(0, colon), Integer.parseInt(part.substring(colon + 1)));
    }
    return out;
  }

  private static Set<TopicPartition> partitions(Map<String, Integer> topics) {
    Set<TopicPartition> out = new TreeSet<>(GroupSplit::compare);
    topics.forEach((t, n) -> {
      for (int p = 0; p < n; p++) out.add(new TopicPartition(t, p));
    });
    return out;
  }

  private static int compare(TopicPartition a, TopicPartition b) {
    int c = a.topic().compareTo(b.topic());
    return c != 0 ? c : Integer.compare(a.partition(), b.partition());
  }

  private static String json(Collection<?> items) {
    List<String> sorted = new ArrayList<>();
    for (Object o : items) sorted.add("\"" + o + "\"");
    java.util.Collections.sort(sorted);
    return "[" + String.join(",", sorted) + "]";
  }

  private static synchronized void event(String name, String fields) {
    System.out.println("{\"event\":\"" + name + "\",\"ms\":" + (System.currentTimeMillis() - START) + "," + fields + "}");
  }
}
