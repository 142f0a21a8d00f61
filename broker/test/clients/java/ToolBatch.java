import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import org.apache.kafka.common.utils.internals.Exit;

/**
 * Runs several of Kafka's command-line tools one after another in one JVM, as the kafka-*.sh scripts
 * would run them one per JVM: each command's `main` with its arguments, its exit code (Kafka's tools
 * leave through `Exit.exit`, which is caught here) and what it printed. This saves a JVM start per
 * command in the tests.
 *
 * Input (stdin): one command per line, its words separated by tabs, the main class first; or `sleep MS`.
 * Output: per command one line `RESULT <exit code> <milliseconds> <stdout base64> <stderr base64>`.
 *
 * The exit code is that of the first `Exit.exit` (some tools call it at the end of their work and again
 * from `main` with what they returned, after catching the first one: the lines they print about it,
 * which name the marker below, are dropped).
 */
public final class ToolBatch {
  private static final String MARKER = "ToolBatch-exit-called";

  private static final class ExitCalled extends RuntimeException {
    ExitCalled() {
      super(MARKER, null, false, false);
    }

    @Override
    public String toString() {
      return MARKER;
    }
  }

  /** The first exit code of the command running, or null. */
  private static Integer exitCode;

  public static void main(String[] args) throws Exception {
    PrintStream realOut = System.out;
    PrintStream realErr = System.err;
    Exit.setExitProcedure((code, message) -> {
      if (exitCode == null) exitCode = code;
      throw new ExitCalled();
    });
    Exit.setHaltProcedure((code, message) -> {
      if (exitCode == null) exitCode = code;
      throw new ExitCalled();
    });
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    for (String line; (line = in.readLine()) != null; ) {
      if (line.isEmpty()) continue;
      String[] words = line.split("\t", -1);
      long started = System.currentTimeMillis();
      if (words[0].equals("sleep")) {
        Thread.sleep(Long.parseLong(words[1]));
        realOut.println("RESULT 0 " + (System.currentTimeMillis() - started) + "  ");
        continue;
      }
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      exitCode = null;
      int code = 0;
      System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      try {
        Method main = Class.forName(words[0]).getMethod("main", String[].class);
        main.invoke(null, (Object) Arrays.copyOfRange(words, 1, words.length));
      } catch (InvocationTargetException e) {
        if (!(e.getCause() instanceof ExitCalled)) {
          code = 99;
          e.getCause().printStackTrace(System.err);
        }
      } finally {
        System.out.flush();
        System.err.flush();
        System.setOut(realOut);
        System.setErr(realErr);
      }
      if (exitCode != null) code = exitCode;
      Base64.Encoder b64 = Base64.getEncoder();
      realOut.println("RESULT " + code + " " + (System.currentTimeMillis() - started) + " " + b64.encodeToString(withoutMarker(out)) + " "
          + b64.encodeToString(withoutMarker(err)));
      realOut.flush();
    }
    Exit.resetExitProcedure();
    Exit.resetHaltProcedure();
    // A tool may leave a thread behind (an admin client after an error): do not wait for it.
    System.exit(0);
  }

  private static byte[] withoutMarker(ByteArrayOutputStream printed) {
    StringBuilder kept = new StringBuilder();
    for (String line : printed.toString(StandardCharsets.UTF_8).split("\n", -1)) {
      if (line.contains(MARKER)) continue;
      if (kept.length() > 0) kept.append('\n');
      kept.append(line);
    }
    return kept.toString().getBytes(StandardCharsets.UTF_8);
  }
}
