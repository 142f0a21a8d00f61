import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The Java 4.4 client's transactions for the broker tests (broker/test/txn-java.test.ts, txn-streams.test.ts).
 * One command per run; every result is a tagged line on stdout, e.g. `COMMITTED 3`, and the test decides what
 * is right. Errors are reported by their exception class (and their causes').
 *
 *   create      BOOTSTRAP TOPIC:PARTITIONS...            creates topics (an existing one is fine)
 *   lines       BOOTSTRAP TOPIC                          produces `key TAB value TAB partition` lines of stdin
 *   alternate   BOOTSTRAP TXNID TOPIC PARTITIONS N PER   N transactions of PER records, even ones committed, odd aborted
 *   read        BOOTSTRAP ISOLATIONS TIMEOUTMS TOPIC...  every record from the beginning to the end (the LSO for
 *                                                        read_committed), for each isolation level of the comma
 *                                                        separated list: `END isolation topic partition offset`,
 *                                                        `REC isolation topic partition offset key value`
 *   offsets     BOOTSTRAP GROUP                          the group's committed offsets: `OFFSET topic partition offset`
 *   fence       BOOTSTRAP TXNID TOPIC                    a second producer with the same id fences the first
 *   timeout     BOOTSTRAP TXNID TIMEOUTMS                initTransactions with that transaction.timeout.ms
 *   expire      BOOTSTRAP TXNID TOPIC TIMEOUTMS WAITMS   a transaction left open past its timeout, then committed
 *   stream      BOOTSTRAP TXNID TOPIC PARTITIONS N PER DEADLINEMS
 *                                                        N transactions, each 4th aborted, surviving broker restarts
 */
public final class TxnJava {
  public static void main(String[] args) throws Exception {
    String command = args[0];
    String bootstrap = args[1];
    int code = 0;
    switch (command) {
      case "create" -> create(bootstrap, args);
      case "lines" -> lines(bootstrap, args[2]);
      case "alternate" -> alternate(bootstrap, args[2], args[3], Integer.parseInt(args[4]), Integer.parseInt(args[5]),
          Integer.parseInt(args[6]));
      case "read" -> read(bootstrap, args[2], Long.parseLong(args[3]), List.of(args).subList(4, args.length));
      case "offsets" -> offsets(bootstrap, args[2]);
      case "fence" -> fence(bootstrap, args[2], args[3]);
      case "timeout" -> timeout(bootstrap, args[2], Integer.parseInt(args[3]));
      case "expire" -> expire(bootstrap, args[2], args[3], Integer.parseInt(args[4]), Long.parseLong(args[5]));
      case "stream" -> stream(bootstrap, args[2], args[3], Integer.parseInt(args[4]), Integer.parseInt(args[5]),
          Integer.parseInt(args[6]), Long.parseLong(args[7]));
      default -> {
        System.out.println("FAIL unknown command " + command);
        code = 2;
      }
    }
    System.out.flush();
    System.exit(code);
  }

  /** The exception's class and its causes', e.g. `KafkaException<ProducerFencedException`. */
  static String describe(Throwable e) {
    StringBuilder sb = new StringBuilder();
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (sb.length() > 0) sb.append('<');
      sb.append(t.getClass().getSimpleName());
      if (t.getCause() == t) break;
    }
    return sb.toString();
  }

  static String message(Throwable e) {
    return String.valueOf(e.getMessage()).replace('\n', ' ');
  }

  static Properties producerProps(String bootstrap, String txnId) {
    Properties p = new Properties();
    p.put("bootstrap.servers", bootstrap);
    p.put("key.serializer", StringSerializer.class.getName());
    p.put("value.serializer", StringSerializer.class.getName());
    if (txnId != null) p.put("transactional.id", txnId);
    p.put("linger.ms", "5");
    p.put("max.block.ms", "20000");
    p.put("request.timeout.ms", "10000");
    p.put("delivery.timeout.ms", "30000");
    return p;
  }

  static Properties consumerProps(String bootstrap, String isolation) {
    Properties c = new Properties();
    c.put("bootstrap.servers", bootstrap);
    c.put("key.deserializer", StringDeserializer.class.getName());
    c.put("value.deserializer", StringDeserializer.class.getName());
    c.put("isolation.level", isolation);
    c.put("fetch.max.wait.ms", "100");
    c.put("enable.auto.commit", "false");
    c.put("allow.auto.create.topics", "false");
    return c;
  }

  static void create(String bootstrap, String[] args) throws Exception {
    Properties a = new Properties();
    a.put("bootstrap.servers", bootstrap);
    try (Admin admin = Admin.create(a)) {
      for (int i = 2; i < args.length; i++) {
        String[] tp = args[i].split(":");
        try {
          admin.createTopics(List.of(new NewTopic(tp[0], Integer.parseInt(tp[1]), (short) 1))).all().get();
          System.out.println("CREATED " + tp[0]);
        } catch (ExecutionException e) {
          if (!(e.getCause() instanceof TopicExistsException)) throw e;
          System.out.println("EXISTS " + tp[0]);
        }
      }
    }
  }

  static void lines(String bootstrap, String topic) throws Exception {
    Properties p = producerProps(bootstrap, null);
    p.put("acks", "all");
    p.put("enable.idempotence", "true");
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    int n = 0;
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
      List<Future<RecordMetadata>> acks = new ArrayList<>();
      for (String line; (line = in.readLine()) != null; ) {
        if (line.isEmpty()) continue;
        String[] f = line.split("\t");
        acks.add(producer.send(new ProducerRecord<>(topic, Integer.parseInt(f[2]), f[0], f[1])));
        n++;
      }
      for (Future<RecordMetadata> f : acks) f.get();
    }
    System.out.println("PRODUCED " + n);
  }

  /** The key and value of record i of transaction n (txn-java.test.ts builds the same). */
  static ProducerRecord<String, String> record(String topic, String tag, int n, int i, int partitions) {
    return new ProducerRecord<>(topic, i % partitions, tag + "-k" + n + "-" + i, tag + ":" + n + ":" + i);
  }

  static void alternate(String bootstrap, String txnId, String topic, int partitions, int count, int per)
      throws Exception {
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(producerProps(bootstrap, txnId))) {
      producer.initTransactions();
      for (int n = 0; n < count; n++) {
        producer.beginTransaction();
        List<Future<RecordMetadata>> sent = new ArrayList<>();
        for (int i = 0; i < per; i++) sent.add(producer.send(record(topic, txnId, n, i, partitions)));
        if (n % 2 == 0) {
          producer.commitTransaction();
          for (Future<RecordMetadata> f : sent) f.get();
          System.out.println("COMMITTED " + n);
        } else {
          producer.flush();
          producer.abortTransaction();
          System.out.println("ABORTED " + n);
        }
      }
    }
  }

  static void read(String bootstrap, String isolations, long timeoutMs, List<String> topics) throws Exception {
    for (String isolation : isolations.split(",")) readAll(bootstrap, isolation, timeoutMs, topics);
  }

  static void readAll(String bootstrap, String isolation, long timeoutMs, List<String> topics) throws Exception {
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(consumerProps(bootstrap, isolation))) {
      List<TopicPartition> partitions = new ArrayList<>();
      for (String t : topics) {
        List<PartitionInfo> infos = consumer.partitionsFor(t, Duration.ofSeconds(10));
        for (PartitionInfo i : infos) partitions.add(new TopicPartition(t, i.partition()));
      }
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      // The end as the consumer's isolation level sees it: the last stable offset for read_committed.
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions, Duration.ofSeconds(10));
      for (TopicPartition tp : partitions) {
        System.out.println("END " + isolation + " " + tp.topic() + " " + tp.partition() + " " + end.get(tp));
      }
      long deadline = System.currentTimeMillis() + timeoutMs;
      while (true) {
        boolean done = true;
        for (TopicPartition tp : partitions) if (consumer.position(tp) < end.get(tp)) done = false;
        if (done) break;
        if (System.currentTimeMillis() > deadline) {
          StringBuilder sb = new StringBuilder();
          for (TopicPartition tp : partitions) sb.append(' ').append(tp).append('@').append(consumer.position(tp));
          System.out.println("FAIL " + isolation + " not at the end after " + timeoutMs + " ms:" + sb);
          System.out.flush();
          System.exit(1);
        }
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
          System.out.println("REC " + isolation + " " + r.topic() + " " + r.partition() + " " + r.offset() + " " + r.key()
              + " " + r.value());
        }
      }
    }
  }

  static void offsets(String bootstrap, String group) throws Exception {
    Properties a = new Properties();
    a.put("bootstrap.servers", bootstrap);
    try (Admin admin = Admin.create(a)) {
      Map<TopicPartition, OffsetAndMetadata> m =
          admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
      for (Map.Entry<TopicPartition, OffsetAndMetadata> e : m.entrySet()) {
        System.out.println("OFFSET " + e.getKey().topic() + " " + e.getKey().partition() + " "
            + (e.getValue() == null ? -1 : e.getValue().offset()));
      }
    }
  }

  static void fence(String bootstrap, String txnId, String topic) throws Exception {
    KafkaProducer<String, String> first = new KafkaProducer<>(producerProps(bootstrap, txnId));
    first.initTransactions();
    first.beginTransaction();
    first.send(new ProducerRecord<>(topic, 0, "first", "first-1")).get();
    System.out.println("FIRST_SENT");
    try (KafkaProducer<String, String> second = new KafkaProducer<>(producerProps(bootstrap, txnId))) {
      second.initTransactions();
      System.out.println("SECOND_INITIALIZED");
      // The first producer, fenced: its next send and its commit fail.
      try {
        first.send(new ProducerRecord<>(topic, 0, "first", "first-2")).get();
        System.out.println("FIRST_SEND_OK");
      } catch (Exception e) {
        System.out.println("FIRST_SEND_ERROR " + describe(e) + " " + message(e));
      }
      try {
        first.commitTransaction();
        System.out.println("FIRST_COMMITTED");
      } catch (Exception e) {
        System.out.println("FIRST_COMMIT_ERROR " + describe(e) + " " + message(e));
      }
      first.close(Duration.ofSeconds(5));
      second.beginTransaction();
      second.send(new ProducerRecord<>(topic, 0, "second", "second-1")).get();
      second.commitTransaction();
      System.out.println("SECOND_COMMITTED");
    }
  }

  static void timeout(String bootstrap, String txnId, int timeoutMs) {
    Properties p = producerProps(bootstrap, txnId);
    p.put("transaction.timeout.ms", String.valueOf(timeoutMs));
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
      producer.initTransactions();
      System.out.println("INITIALIZED");
    } catch (Exception e) {
      System.out.println("ERROR " + describe(e) + " " + message(e));
    }
  }

  static void expire(String bootstrap, String txnId, String topic, int timeoutMs, long waitMs) throws Exception {
    Properties p = producerProps(bootstrap, txnId);
    p.put("transaction.timeout.ms", String.valueOf(timeoutMs));
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
      producer.initTransactions();
      producer.beginTransaction();
      producer.send(new ProducerRecord<>(topic, 0, "expired", "expired-1")).get();
      System.out.println("SENT");
      Thread.sleep(waitMs);
      try {
        producer.commitTransaction();
        System.out.println("COMMITTED");
      } catch (Exception e) {
        System.out.println("COMMIT_ERROR " + describe(e) + " " + message(e));
      }
    }
  }

  static KafkaProducer<String, String> initialized(Properties p, long deadline) throws Exception {
    while (true) {
      KafkaProducer<String, String> producer = new KafkaProducer<>(p);
      try {
        producer.initTransactions();
        return producer;
      } catch (TimeoutException e) {
        producer.close(Duration.ZERO);
        System.out.println("INIT_RETRY " + describe(e));
        if (System.currentTimeMillis() > deadline) throw e;
      }
    }
  }

  static void stream(String bootstrap, String txnId, String topic, int partitions, int count, int per, long deadlineMs)
      throws Exception {
    long deadline = System.currentTimeMillis() + deadlineMs;
    Properties p = producerProps(bootstrap, txnId);
    p.put("max.block.ms", "10000");
    p.put("request.timeout.ms", "5000");
    p.put("delivery.timeout.ms", "20000");
    p.put("transaction.timeout.ms", "60000");
    p.put("reconnect.backoff.max.ms", "500");
    KafkaProducer<String, String> producer = initialized(p, deadline);
    for (int n = 0; n < count && System.currentTimeMillis() < deadline; n++) {
      try {
        producer.beginTransaction();
        System.out.println("BEGIN " + n);
        for (int i = 0; i < per; i++) producer.send(record(topic, "s", n, i, partitions));
        if (n % 4 == 3) {
          producer.abortTransaction();
          System.out.println("ABORTED " + n);
        } else {
          // A commit that times out (the broker is away) is retried: it goes on where it was.
          while (true) {
            try {
              producer.commitTransaction();
              break;
            } catch (TimeoutException e) {
              System.out.println("COMMIT_RETRY " + n);
              if (System.currentTimeMillis() > deadline) throw e;
            }
          }
          System.out.println("COMMITTED " + n);
        }
        Thread.sleep(20);
      } catch (Exception e) {
        // The transaction's fate is the coordinator's now: all of it or nothing. A new producer goes on.
        System.out.println("FAILED " + n + " " + describe(e) + " " + message(e));
        producer.close(Duration.ZERO);
        producer = initialized(p, deadline);
      }
    }
    producer.close(Duration.ofSeconds(5));
    System.out.println("DONE");
  }
}
