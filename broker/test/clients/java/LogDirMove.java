import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeReplicaLogDirsResult.ReplicaLogDirInfo;
import org.apache.kafka.common.TopicPartitionReplica;

/**
 * Moves one replica to another log directory with the Admin client (the broker test of several log
 * directories, broker/test/log-dirs.test.ts):
 *
 *   LogDirMove BOOTSTRAP BROKER_ID TOPIC PARTITION DIR TIMEOUTMS
 *
 * calls alterReplicaLogDirs and prints `ALTERED` or `ERROR <exception class>`; then asks
 * describeReplicaLogDirs until the replica's current directory is DIR with no future one, and prints
 * `MOVED`, or `TIMEOUT <current> <future>` after TIMEOUTMS.
 */
public final class LogDirMove {
  public static void main(String[] args) throws Exception {
    Properties p = new Properties();
    p.put("bootstrap.servers", args[0]);
    TopicPartitionReplica replica =
        new TopicPartitionReplica(args[2], Integer.parseInt(args[3]), Integer.parseInt(args[1]));
    String dir = args[4];
    long deadline = System.currentTimeMillis() + Long.parseLong(args[5]);
    try (Admin admin = Admin.create(p)) {
      try {
        admin.alterReplicaLogDirs(Map.of(replica, dir)).all().get();
        System.out.println("ALTERED");
      } catch (java.util.concurrent.ExecutionException e) {
        System.out.println("ERROR " + e.getCause().getClass().getSimpleName());
        return;
      }
      for (;;) {
        ReplicaLogDirInfo info = admin.describeReplicaLogDirs(java.util.List.of(replica)).all().get().get(replica);
        if (dir.equals(info.getCurrentReplicaLogDir()) && info.getFutureReplicaLogDir() == null) {
          System.out.println("MOVED");
          return;
        }
        if (System.currentTimeMillis() > deadline) {
          System.out.println("TIMEOUT " + info.getCurrentReplicaLogDir() + " " + info.getFutureReplicaLogDir());
          return;
        }
        Thread.sleep(100);
      }
    }
  }
}
