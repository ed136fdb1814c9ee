package io.herd.structured;

import io.herd.model.DemoModel;
import io.herd.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Strings of unbounded length under a pattern (format email, an open pattern) close before the token budget runs
 * out however the tokens are picked: the distance to the pattern's acceptance shrinks along the closing tokens.
 */
class PatternClosingTest {
    @TempDir Path dir;

    @Test
    void uniformlyRandomTokensStillCloseAnOpenPatternWithinTheBudget() {
        DemoModel.write(dir);
        TokenVocabulary v = TokenVocabulary.of(Tokenizer.load(dir));
        for (String schema : new String[] {"{\"type\":\"string\",\"format\":\"email\"}",
                "{\"anyOf\":[{\"type\":\"string\",\"format\":\"email\"},{\"type\":\"null\"}]}",
                "{\"type\":\"string\",\"pattern\":\"^[a-z]+(-[a-z]+)*@[0-9]+\\\\.x$\"}"}) {
            OutputGrammar g = new ConstraintCompiler(v).compile(ConstraintSpec.jsonSchema(schema));
            for (int seed = 0; seed < 8; seed++) {
                SplittableRandom random = new SplittableRandom(seed);
                ConstraintCursor cursor = new ConstraintCursor(g);
                int budget = 48;
                boolean stopped = false;
                for (int used = 0; used < budget && !stopped; used++) {
                    int id = pick(cursor.allowedTokens(budget - used), random);
                    if (v.isStop(id)) stopped = true;
                    else cursor.accept(id);
                }
                assertThat(stopped).as("%s, seed %d", schema, seed).isTrue();
            }
        }
    }

    private static int pick(long[] mask, SplittableRandom random) {
        int n = 0;
        for (long w : mask) n += Long.bitCount(w);
        int k = random.nextInt(n);
        for (int w = 0; w < mask.length; w++) {
            int c = Long.bitCount(mask[w]);
            if (k >= c) {
                k -= c;
                continue;
            }
            long bits = mask[w];
            for (int i = 0; i < k; i++) bits &= bits - 1;
            return (w << 6) + Long.numberOfTrailingZeros(bits);
        }
        throw new IllegalStateException("empty mask");
    }
}
