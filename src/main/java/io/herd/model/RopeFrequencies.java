package io.herd.model;

/** RoPE inverse frequencies ω_j (SPEC §5.4), computed in fp32 step by step the way PyTorch builds them. */
public final class RopeFrequencies {
    private RopeFrequencies() {}

    /** ω_j for j = 0 … headDim/2 − 1, llama3-scaled when {@code scaling} is non-null. */
    public static float[] inverseFrequencies(int headDim, float theta, Llama4Config.RopeScaling scaling) {
        float[] inv = new float[headDim / 2];
        for (int j = 0; j < inv.length; j++) {
            float exponent = (float) (2 * j) / (float) headDim;
            float power = (float) Math.pow(theta, exponent);
            inv[j] = 1.0f / power;
        }
        if (scaling == null) return inv;
        float factor = scaling.factor();
        float oldContext = scaling.originalMaxPositionEmbeddings();
        float lowWavelen = oldContext / scaling.lowFreqFactor();
        float highWavelen = oldContext / scaling.highFreqFactor();
        float twoPi = (float) (2 * Math.PI);
        for (int j = 0; j < inv.length; j++) {
            float wavelen = twoPi / inv[j];
            if (wavelen < highWavelen) continue;                   // high frequency: unchanged
            if (wavelen > lowWavelen) { inv[j] = inv[j] / factor; continue; }   // low frequency: slowed
            // Smooth band; empty when low == high (its formula would divide by zero there).
            float smooth = (oldContext / wavelen - scaling.lowFreqFactor())
                    / (scaling.highFreqFactor() - scaling.lowFreqFactor());
            inv[j] = (1 - smooth) * inv[j] / factor + smooth * inv[j];
        }
        return inv;
    }

    /** Temperature-tuning query scale s(p) = 1 + attnScale · ln(1 + floor((p+1)/floorScale)) (SPEC §5.6), fp32. */
    public static float temperatureScale(int position, float floorScale, float attnScale) {
        float f = (float) Math.floor(((float) position + 1.0f) / floorScale);
        return (float) Math.log1p(f) * attnScale + 1.0f;
    }
}
