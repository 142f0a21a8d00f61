import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicIdPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Share group work for the share-consumer test, with Kafka 4.4's KafkaShareConsumer.
 *
 * setup BOOTSTRAP TOPIC GROUP PARTITIONS COUNT [REPLICATION_FACTOR]: creates the topic (1 replica unless
 *   given), sets the group's share.auto.offset.reset=earliest, produces COUNT records "v-<i>" (some named
 *   release-/reject-/poison-).
 * hold BOOTSTRAP TOPIC GROUP: one consumer (explicit acknowledgement) polls until it has records,
 *   prints "HELD <partition> <offset>" for each, then waits to be killed.
 * consume BOOTSTRAP TOPIC GROUP CONSUMERS EXPECTED TIMEOUT_MS [implicit]: that many consumers in one group, each in
 *   its own thread, acknowledge explicitly: a "release-" record is released on its first delivery, a
 *   "reject-" record rejected, a "poison-" one released at every delivery, the rest accepted. After each poll's commitSync prints
 *   "ACK|REL|REJ <client> <partition> <offset> <count> <value> <ms>" per record ("ACK?" ... when the broker
 *   did not confirm), stops once EXPECTED distinct values were accepted, every poison record seen reached the
 *   delivery count limit (5) and a quiet second passed, and
 *   prints "DONE <accepted> <ms>". With "implicit", share.acknowledgement.mode=implicit: every record is
 *   accepted by the commitSync after its poll.
 * take BOOTSTRAP TOPIC GROUP COUNT TIMEOUT_MS: one consumer as consume's, which stops as soon as COUNT
 *   distinct values were accepted (part of a topic).
 */
public class ShareWork {
  /** group.share.delivery.count.limit: a record is archived after this many deliveries. */
  static final int DELIVERY_COUNT_LIMIT = 5;

  public static void main(String[] args) throws Exception {
    String mode = args[0], bootstrap = args[1], topic = args[2], group = args[3];
    switch (mode) {
      case "setup" -> setup(bootstrap, topic, group, Integer.parseInt(args[4]), Integer.parseInt(args[5]),
          args.length > 6 ? Short.parseShort(args[6]) : (short) 1);
      case "hold" -> hold(bootstrap, topic, group);
      case "consume" -> consume(bootstrap, topic, group, Integer.parseInt(args[4]), Integer.parseInt(args[5]), Long.parseLong(args[6]),
          args.length > 7 && args[7].equals("implicit"), true);
      case "take" -> consume(bootstrap, topic, group, 1, Integer.parseInt(args[4]), Long.parseLong(args[5]), false, false);
      default -> throw new IllegalArgumentException(mode);
    }
  }

  static void setup(String bootstrap, String topic, String group, int partitions, int count, short replicas) throws Exception {
    Properties p = new Properties();
    p.put("bootstrap.servers", bootstrap);
    try (Admin admin = Admin.create(p)) {
      admin.createTopics(List.of(new NewTopic(topic, partitions, replicas))).all().get();
      ConfigResource res = new ConfigResource(ConfigResource.Type.GROUP, group);
      Collection<AlterConfigOp> ops = List.of(new AlterConfigOp(new ConfigEntry("share.auto.offset.reset", "earliest"), AlterConfigOp.OpType.SET));
      admin.incrementalAlterConfigs(Map.of(res, ops)).all().get();
      String value = admin.describeConfigs(List.of(res)).all().get().get(res).get("share.auto.offset.reset").value();
      System.out.println("CONFIG share.auto.offset.reset=" + value);
    }
    p.put("key.serializer", StringSerializer.class.getName());
    p.put("value.serializer", StringSerializer.class.getName());
    p.put("linger.ms", "5");
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
      for (int i = 0; i < count; i++) producer.send(new ProducerRecord<>(topic, "k" + i, valueOf(i)));
      producer.flush();
    }
    System.out.println("PRODUCED " + count);
  }

  /**
   * The value of record i: every 500th (from 7) is released once, every 500th (from 11) rejected, every
   * 1000th (from 13) a poison record released at every delivery.
   */
  static String valueOf(int i) {
    if (i % 1000 == 13) return "poison-" + i;
    if (i % 500 == 7) return "release-" + i;
    if (i % 500 == 11) return "reject-" + i;
    return "v-" + i;
  }

  static KafkaShareConsumer<String, String> consumer(String bootstrap, String group, String clientId) {
    return consumer(bootstrap, group, clientId, false);
  }

  static KafkaShareConsumer<String, String> consumer(String bootstrap, String group, String clientId, boolean implicit) {
    Properties p = new Properties();
    p.put("bootstrap.servers", bootstrap);
    p.put("group.id", group);
    p.put("client.id", clientId);
    p.put("share.acknowledgement.mode", implicit ? "implicit" : "explicit");
    p.put("key.deserializer", StringDeserializer.class.getName());
    p.put("value.deserializer", StringDeserializer.class.getName());
    return new KafkaShareConsumer<>(p);
  }

  static void hold(String bootstrap, String topic, String group) throws Exception {
    KafkaShareConsumer<String, String> c = consumer(bootstrap, group, "holder");
    c.subscribe(List.of(topic));
    long deadline = System.currentTimeMillis() + 60_000;
    while (System.currentTimeMillis() < deadline) {
      ConsumerRecords<String, String> records = c.poll(Duration.ofMillis(500));
      if (records.isEmpty()) continue;
      StringBuilder out = new StringBuilder();
      for (ConsumerRecord<String, String> r : records)
        out.append("HELD ").append(r.partition()).append(' ').append(r.offset()).append(' ').append(r.value()).append('\n');
      System.out.print(out);
      System.out.println("HOLDING");
      System.out.flush();
      Thread.sleep(600_000);
    }
    System.exit(3);
  }

  static void consume(String bootstrap, String topic, String group, int consumers, int expected, long timeoutMs, boolean implicit,
      boolean waitQuiet) throws Exception {
    Set<String> accepted = ConcurrentHashMap.newKeySet();
    // Poison records released below the delivery count limit: each comes back, so consume waits for them.
    Set<String> poisonPending = ConcurrentHashMap.newKeySet();
    AtomicLong lastNew = new AtomicLong(System.currentTimeMillis());
    long started = System.currentTimeMillis();
    long deadline = started + timeoutMs;
    List<Thread> threads = new ArrayList<>();
    for (int n = 0; n < consumers; n++) {
      String clientId = "share-" + n;
      Thread t = new Thread(() -> {
        try (KafkaShareConsumer<String, String> c = consumer(bootstrap, group, clientId, implicit)) {
          c.subscribe(List.of(topic));
          while (System.currentTimeMillis() < deadline) {
            boolean enough = accepted.size() >= expected && (!waitQuiet || poisonPending.isEmpty());
            if (enough && (!waitQuiet || System.currentTimeMillis() - lastNew.get() > 1000)) {
              System.out.println("STOP " + clientId + " " + (System.currentTimeMillis() - started));
              break;
            }
            ConsumerRecords<String, String> records = c.poll(Duration.ofMillis(200));
            List<String[]> lines = new ArrayList<>();
            for (ConsumerRecord<String, String> r : records) {
              short count = r.deliveryCount().orElse((short) -1);
              AcknowledgeType type = AcknowledgeType.ACCEPT;
              if (implicit) type = AcknowledgeType.ACCEPT; // acknowledged by commitSync (or the next poll)
              else if (r.value().startsWith("reject-")) type = AcknowledgeType.REJECT;
              else if (r.value().startsWith("release-") && count == 1) type = AcknowledgeType.RELEASE;
              else if (r.value().startsWith("poison-")) {
                type = AcknowledgeType.RELEASE;
                if (count < DELIVERY_COUNT_LIMIT) poisonPending.add(r.value());
                else poisonPending.remove(r.value());
              }
              if (!implicit) c.acknowledge(r, type);
              String tag = type == AcknowledgeType.ACCEPT ? "ACK" : type == AcknowledgeType.REJECT ? "REJ" : "REL";
              lines.add(new String[] {tag, String.valueOf(r.partition()), r.offset() + " " + count + " " + r.value()});
            }
            if (records.isEmpty()) continue;
            // An acknowledgement counts once the broker confirmed it; one that failed is tagged with a "?".
            Map<TopicIdPartition, Optional<KafkaException>> result;
            try {
              result = c.commitSync();
            } catch (KafkaException e) {
              result = Map.of();
              System.out.println("COMMITFAIL " + clientId + " " + e);
            }
            Set<Integer> failed = new HashSet<>();
            Set<Integer> confirmed = new HashSet<>();
            for (Map.Entry<TopicIdPartition, Optional<KafkaException>> e : result.entrySet())
              (e.getValue().isPresent() ? failed : confirmed).add(e.getKey().partition());
            StringBuilder out = new StringBuilder();
            long at = System.currentTimeMillis() - started;
            for (String[] l : lines) {
              int partition = Integer.parseInt(l[1]);
              boolean ok = confirmed.contains(partition) && !failed.contains(partition);
              out.append(l[0]).append(ok ? "" : "?").append(' ').append(clientId).append(' ').append(partition).append(' ')
                  .append(l[2]).append(' ').append(at).append('\n');
              // Unconfirmed ones count too: the broker may have applied them (then it never delivers them again).
              if (l[0].equals("ACK") && accepted.add(l[2].substring(l[2].lastIndexOf(' ') + 1)))
                lastNew.set(System.currentTimeMillis());
            }
            synchronized (System.out) {
              System.out.print(out);
            }
          }
        } catch (Exception e) {
          e.printStackTrace();
          System.out.println("ERROR " + clientId + " " + e);
        }
      });
      threads.add(t);
      t.start();
    }
    for (Thread t : threads) t.join();
    System.out.println("DONE " + accepted.size() + " " + (System.currentTimeMillis() - started));
  }
}
