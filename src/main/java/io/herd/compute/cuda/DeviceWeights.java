package io.herd.compute.cuda;

import io.herd.ffi.CudaRuntime;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

/**
 * Uploads weights from host memory (memory-mapped checkpoint slices) to the device once, converting or quantizing
 * them there: the host never holds a converted copy. Sources are F32 or BF16, row-major; HF Linear tensors are
 * [nOut, nIn], input-major expert stacks ([E, nIn, nOut]) are transposed on the device.
 */
public final class DeviceWeights {
    private final CudaDevice device;
    private final CudaOps ops;

    public DeviceWeights(CudaOps ops) {
        this.ops = ops;
        this.device = ops.device();
    }

    /** A host tensor: its bytes and whether they are bf16 (else f32). */
    public record HostTensor(MemorySegment data, boolean bf16) {
        long elements() {
            return data.byteSize() / (bf16 ? 2 : 4);
        }
    }

    /**
     * Uploads {@code parts} (concatenated along the output rows, all [rows_i, nIn] or, if {@code inputMajor},
     * one stack [nGroups, nIn, nOut]) as a [nGroups, nOut, nIn] matrix in {@code target}.
     */
    public DeviceMatrix matrix(List<HostTensor> parts, int nGroups, int nOut, int nIn, boolean inputMajor,
                               WeightFormat target, int groupSize) {
        boolean bf16 = parts.getFirst().bf16();
        for (HostTensor p : parts) {
            if (p.bf16() != bf16) throw new IllegalArgumentException("mixed dtypes in one fused matrix");
        }
        long elements = (long) nGroups * nOut * nIn;
        long sum = 0;
        for (HostTensor p : parts) sum += p.elements();
        if (sum != elements) {
            throw new IllegalArgumentException("host tensors hold " + sum + " elements, matrix needs " + elements);
        }
        int eb = bf16 ? 2 : 4;
        long staging = device.alloc(elements * eb);
        long offset = 0;
        for (HostTensor p : parts) {
            device.runtime().memcpy(staging + offset, p.data().address(), p.data().byteSize(), CudaRuntime.HOST_TO_DEVICE);
            offset += p.data().byteSize();
        }
        if (inputMajor) {
            long t = device.alloc(elements * eb);
            ops.transpose(staging, t, nIn, nOut, nGroups, eb);
            device.synchronize();
            device.free(staging);
            staging = t;
        }
        return convert(staging, bf16, nGroups, nOut, nIn, target, groupSize);
    }

    /** Converts a device staging buffer (which this call takes over) into {@code target}. */
    DeviceMatrix convert(long staging, boolean bf16, int nGroups, int nOut, int nIn, WeightFormat target, int groupSize) {
        long elements = (long) nGroups * nOut * nIn;
        WeightFormat source = bf16 ? WeightFormat.BF16 : WeightFormat.F32;
        if (target == source) return new DeviceMatrix(target, nGroups, nOut, nIn, groupSize, staging, 0);
        long out;
        long scales = 0;
        switch (target) {
            case BF16 -> {
                out = device.alloc(elements * 2);
                ops.convertF32ToBf16(staging, out, elements);
            }
            case F32 -> {
                out = device.alloc(elements * 4);
                ops.convertBf16ToF32(staging, out, elements);
            }
            case INT8, INT4 -> {
                if (nIn % groupSize != 0) {
                    throw new IllegalArgumentException("nIn " + nIn + " is not a multiple of group size " + groupSize);
                }
                out = device.alloc((long) nGroups * nOut * target.rowBytes(nIn));
                scales = device.alloc(elements / groupSize * 2);
                ops.quantize(staging, bf16, target, out, scales, nGroups * nOut, nIn, groupSize);
            }
            default -> throw new IllegalStateException();
        }
        device.synchronize();
        device.free(staging);
        return new DeviceMatrix(target, nGroups, nOut, nIn, groupSize, out, scales);
    }

    /**
     * A stack of {@code stack.nGroups() + 1} matrices: {@code stack}'s groups, then {@code extra} (same shape and
     * format). Both inputs are freed; for a moment the device holds both copies.
     */
    public DeviceMatrix appendGroup(DeviceMatrix stack, DeviceMatrix extra) {
        if (extra.nGroups() != 1 || extra.format() != stack.format() || extra.nOut() != stack.nOut()
                || extra.nIn() != stack.nIn() || extra.groupSize() != stack.groupSize()) {
            throw new IllegalArgumentException("cannot append " + extra + " to " + stack);
        }
        int n = stack.nGroups() + 1;
        long data = device.alloc(n * stack.groupStrideBytes());
        device.copy(data, stack.data(), stack.payloadBytes());
        device.copy(data + stack.payloadBytes(), extra.data(), extra.payloadBytes());
        long scales = 0;
        if (stack.scales() != 0) {
            scales = device.alloc(n * stack.groupStrideScales() * 2);
            device.copy(scales, stack.scales(), stack.scaleBytes());
            device.copy(scales + stack.scaleBytes(), extra.scales(), extra.scaleBytes());
        }
        device.synchronize();
        for (DeviceMatrix m : new DeviceMatrix[] {stack, extra}) {
            device.free(m.data());
            if (m.scales() != 0) device.free(m.scales());
        }
        return new DeviceMatrix(stack.format(), n, stack.nOut(), stack.nIn(), stack.groupSize(), data, scales);
    }

    /** Random weights generated on the device (benchmarks at real model sizes without any upload). */
    public DeviceMatrix random(int nGroups, int nOut, int nIn, WeightFormat format, int groupSize, long seed) {
        float std = (float) (1.0 / Math.sqrt(nIn));
        long elements = (long) nGroups * nOut * nIn;
        switch (format) {
            case INT4, INT8 -> {
                long bytes = (long) nGroups * nOut * format.rowBytes(nIn);
                long data = device.alloc(bytes);
                ops.fillRandomBytes(data, bytes, seed);
                long nScales = elements / groupSize;
                long scales = device.alloc(nScales * 2);
                // uniform nibbles (-8..7) have std ≈ 4.6; int8 bytes ≈ 74: scale so that weights have std 1/sqrt(nIn)
                ops.fillBf16(scales, nScales, std / (format == WeightFormat.INT4 ? 4.6f : 74f));
                return new DeviceMatrix(format, nGroups, nOut, nIn, groupSize, data, scales);
            }
            case BF16 -> {
                long data = device.alloc(elements * 2);
                ops.fillRandomBf16(data, elements, seed, std * 1.73f);
                return new DeviceMatrix(format, nGroups, nOut, nIn, groupSize, data, 0);
            }
            case F32 -> {
                long data = device.alloc(elements * 4);
                ops.fillRandomF32(data, elements, seed, std * 1.73f);
                return new DeviceMatrix(format, nGroups, nOut, nIn, groupSize, data, 0);
            }
            default -> throw new IllegalStateException();
        }
    }

    /** Uploads a small fp32 vector (norm gains, RoPE frequencies). */
    public long floats(float[] values) {
        long d = device.alloc((long) values.length * 4);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment host = a.allocateFrom(ValueLayout.JAVA_FLOAT, values);
            device.runtime().memcpy(d, host.address(), host.byteSize(), CudaRuntime.HOST_TO_DEVICE);
        }
        return d;
    }

    /** A device vector of {@code n} fp32 ones. */
    public long ones(int n) {
        float[] v = new float[n];
        java.util.Arrays.fill(v, 1f);
        return floats(v);
    }
}
