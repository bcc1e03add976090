import java.io.BufferedReader;
import java.io.InputStreamReader;

public class WordCount {
    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        StringBuilder all = new StringBuilder();
        String line;
        while ((line = in.readLine()) != null) all.append(line).append('\n');
        String text = all.toString().trim();
        System.out.println(text.isEmpty() ? 0 : text.split("\\s+").length);
    }
}
