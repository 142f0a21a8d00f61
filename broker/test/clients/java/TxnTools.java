import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The producers of the kafka-transactions.sh test (broker/test/txn-tools.test.ts), in one run:
 *
 *   TxnTools BOOTSTRAP TOPIC DONE_ID OPEN_ID TIMEOUTMS
 *
 * 1. a producer with transactional.id DONE_ID commits one transaction of three records `a0..a2` to
 *    partition 0 of TOPIC and closes; prints `COMMITTED`;
 * 2. waits for a line on stdin (the test writes other batches meanwhile);
 * 3. a producer with transactional.id OPEN_ID and transaction.timeout.ms TIMEOUTMS begins a transaction,
 *    sends `b0`, `b1` to partition 0 and waits for their acknowledgements; prints `OPEN`, then sleeps until
 *    the test kills it (SIGKILL): the transaction stays open on the partition.
 */
public final class TxnTools {
  public static void main(String[] args) throws Exception {
    String bootstrap = args[0];
    String topic = args[1];
    try (KafkaProducer<String, String> done = producer(bootstrap, args[2], 60_000)) {
      done.initTransactions();
      done.beginTransaction();
      for (int i = 0; i < 3; i++) done.send(new ProducerRecord<>(topic, 0, "a" + i, "a" + i));
      done.commitTransaction();
    }
    System.out.println("COMMITTED");
    System.out.flush();
    new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
    KafkaProducer<String, String> open = producer(bootstrap, args[3], Integer.parseInt(args[4]));
    open.initTransactions();
    open.beginTransaction();
    for (int i = 0; i < 2; i++) open.send(new ProducerRecord<>(topic, 0, "b" + i, "b" + i)).get();
    System.out.println("OPEN");
    System.out.flush();
    Thread.sleep(600_000);
  }

  private static KafkaProducer<String, String> producer(String bootstrap, String transactionalId, int timeoutMs) {
    Properties p = new Properties();
    p.put("bootstrap.servers", bootstrap);
    p.put("transactional.id", transactionalId);
    p.put("transaction.timeout.ms", timeoutMs);
    p.put("key.serializer", StringSerializer.class.getName());
    p.put("value.serializer", StringSerializer.class.getName());
    return new KafkaProducer<>(p);
  }
}
