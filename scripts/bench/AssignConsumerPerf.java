// Consumer throughput without a consumer group, for brokers that do not serve the group APIs yet:
// the Java consumer with assign() over every partition of a topic, from the beginning, with the
// settings ConsumerPerformance uses. Prints "records=N bytes=B ms=T" (T from the first poll to
// the last record). Usage: AssignConsumerPerf <bootstrap> <topic> <records> <timeoutMs>
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

public final class AssignConsumerPerf {
  public static void main(String[] args) {
    String bootstrap = args[0];
    String topic = args[1];
    long expected = Long.parseLong(args[2]);
    long timeoutMs = Long.parseLong(args[3]);
    Properties props = new Properties();
    props.put("bootstrap.servers", bootstrap);
    props.put("client.id", "bench-assign-consumer");
    props.put("enable.auto.commit", "false");
    props.put("auto.offset.reset", "earliest");
    props.put("receive.buffer.bytes", "2097152");
    props.put("max.partition.fetch.bytes", "1048576");
    props.put("check.crcs", "false");
    props.put("key.deserializer", ByteArrayDeserializer.class.getName());
    props.put("value.deserializer", ByteArrayDeserializer.class.getName());
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props)) {
      List<TopicPartition> partitions = new ArrayList<>();
      for (PartitionInfo p : consumer.partitionsFor(topic)) partitions.add(new TopicPartition(topic, p.partition()));
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      long records = 0;
      long bytes = 0;
      long start = System.currentTimeMillis();
      long end = start;
      long lastProgress = start;
      while (records < expected && System.currentTimeMillis() - lastProgress < timeoutMs) {
        ConsumerRecords<byte[], byte[]> batch = consumer.poll(Duration.ofMillis(100));
        if (batch.isEmpty()) continue;
        for (ConsumerRecord<byte[], byte[]> r : batch) {
          records++;
          if (r.value() != null) bytes += r.value().length;
          if (r.key() != null) bytes += r.key().length;
        }
        end = System.currentTimeMillis();
        lastProgress = end;
      }
      System.out.println("records=" + records + " bytes=" + bytes + " ms=" + (end - start));
      if (records < expected) System.exit(1);
    }
  }
}
