// expect: runtime_error
// Threads until the JVM cannot start another one (process limit / address space).
public class ThreadBomb {
    public static void main(String[] args) {
        while (true) {
            Thread t = new Thread(() -> {
                try { Thread.sleep(60_000); } catch (InterruptedException e) { }
            });
            t.setDaemon(true);
            t.start();
        }
    }
}
