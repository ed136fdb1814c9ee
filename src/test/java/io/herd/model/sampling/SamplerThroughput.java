package io.herd.model.sampling;

import java.util.SplittableRandom;

/**
 * Time per sampled token on the Llama 4 vocabulary (a plain main, not a test): {@code SamplerThroughput [vocab]}.
 * Prints microseconds per token for greedy, temperature only, top-p, top-k + top-p and min-p, on peaked logits (a
 * trained model's typical shape) and on flat ones (the worst case for top-p).
 */
public final class SamplerThroughput {
    public static void main(String[] args) {
        int vocab = args.length > 0 ? Integer.parseInt(args[0]) : 202_048;
        SplittableRandom r = new SplittableRandom(1);
        float[] peaked = new float[vocab];
        float[] flat = new float[vocab];
        for (int i = 0; i < vocab; i++) {
            peaked[i] = (float) (r.nextGaussian() * 3);
            flat[i] = (float) (r.nextGaussian() * 0.01);
        }
        Object[][] cases = {
                {"greedy", SamplingParams.greedy(1)},
                {"greedy+logprobs5", new SamplingParams(0f, 1f, 0, 0f, 1, 1f, 0f, 0f, new int[0], 1, true, 5)},
                {"T=0.6", new SamplingParams(0.6f, 1f, 0, 0f, 1, 1f, 0f, 0f, new int[0], 1, false, 0)},
                {"T=0.6 top-p 0.9", new SamplingParams(0.6f, 0.9f, 0, 0f, 1, 1f, 0f, 0f, new int[0], 1, false, 0)},
                {"T=0.6 top-k 50 top-p 0.9", new SamplingParams(0.6f, 0.9f, 50, 0f, 1, 1f, 0f, 0f, new int[0], 1, false, 0)},
                {"T=1 min-p 0.05", new SamplingParams(1f, 1f, 0, 0.05f, 1, 1f, 0f, 0f, new int[0], 1, false, 0)},
                {"T=0.6 top-p 0.9 rep 1.1", new SamplingParams(0.6f, 0.9f, 0, 0f, 1, 1.1f, 0.1f, 0.1f, new int[0], 1, false, 0)},
        };
        int[] prompt = new int[1000];
        for (int i = 0; i < prompt.length; i++) prompt[i] = r.nextInt(vocab);
        for (String shape : new String[]{"peaked", "flat"}) {
            float[] logits = shape.equals("peaked") ? peaked : flat;
            for (Object[] c : cases) {
                Sampler sampler = new Sampler((SamplingParams) c[1], vocab, prompt);
                for (int i = 0; i < 200; i++) sampler.sample(logits, 0);
                int n = 500;
                long start = System.nanoTime();
                for (int i = 0; i < n; i++) sampler.sample(logits, 0);
                System.out.printf("%-7s %-28s %8.1f us/token%n", shape, c[0], (System.nanoTime() - start) / 1e3 / n);
            }
        }
    }
}
