// expect: memory
import java.util.ArrayList;
import java.util.List;

public class MemoryBomb {
    public static void main(String[] args) {
        List<long[]> blocks = new ArrayList<>();
        while (true) blocks.add(new long[1 << 17]);
    }
}
