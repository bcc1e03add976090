// expect: runtime_error
import java.nio.file.Files;
import java.nio.file.Path;

public class ReadShadow {
    public static void main(String[] args) throws Exception {
        System.out.println(Files.readString(Path.of("/etc/shadow")));
    }
}
