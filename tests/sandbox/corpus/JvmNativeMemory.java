// expect: memory|timeout
// (A JVM spends much of its 1 s of CPU starting; on a busy machine the memory group's reclaim
// may bring it past that before the OOM killer ends it. Either way the 600 MB never ran.)
// Red team: memory outside the Java heap (-Xmx) and within the JVM's address-space allowance:
// 600 MB through Unsafe ran under a 256 MB limit. The cgroup allows heap + JVM overhead only.
import java.lang.reflect.Field;
import sun.misc.Unsafe;

public class JvmNativeMemory {
    public static void main(String[] args) throws Exception {
        Field field = Unsafe.class.getDeclaredField("theUnsafe");
        field.setAccessible(true);
        Unsafe unsafe = (Unsafe) field.get(null);
        for (int i = 0; i < 600; i++) {
            long address = unsafe.allocateMemory(1 << 20);
            unsafe.setMemory(address, 1 << 20, (byte) 1);
        }
        System.out.println("600 MB outside the heap");
    }
}
