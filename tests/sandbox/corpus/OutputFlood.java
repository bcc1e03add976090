// expect: output_limit
public class OutputFlood {
    public static void main(String[] args) {
        while (true) System.out.println("all work and no play makes Jack a dull boy");
    }
}
