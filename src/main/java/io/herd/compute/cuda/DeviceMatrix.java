package io.herd.compute.cuda;

/**
 * A weight matrix (or a stack of {@code nGroups} expert matrices) in device memory, used as {@code y = x · Wᵀ}.
 * Payload: [nGroups, nOut, nIn] row-major in {@code format} at {@code data}; for INT8/INT4, bf16 scales
 * [nGroups, nOut, nIn / groupSize] at {@code scales} (0 otherwise).
 */
public record DeviceMatrix(WeightFormat format, int nGroups, int nOut, int nIn, int groupSize, long data, long scales) {
    public DeviceMatrix {
        if (nIn % format.vector != 0) {
            throw new IllegalArgumentException(format + " matrix needs nIn % " + format.vector + " == 0, got " + nIn);
        }
        if (format.quantized() && nIn % 32 != 0) {
            throw new IllegalArgumentException(format + " matrix needs nIn % 32 == 0 (int8 activation groups), got " + nIn);
        }
        if (format.quantized() && (groupSize % format.vector != 0 || nIn % groupSize != 0)) {
            throw new IllegalArgumentException("group size " + groupSize + " must divide nIn " + nIn
                    + " and be a multiple of " + format.vector);
        }
    }

    /** Group {@code g} of a stack as a one-group matrix (a view: the same device memory, nothing to free). */
    public DeviceMatrix group(int g) {
        if (g < 0 || g >= nGroups) throw new IndexOutOfBoundsException("group " + g + " of " + nGroups);
        return new DeviceMatrix(format, 1, nOut, nIn, groupSize, data + g * groupStrideBytes(),
                scales == 0 ? 0 : scales + g * groupStrideScales() * 2);
    }

    /** Bytes between two groups' payloads. */
    public long groupStrideBytes() {
        return nOut * format.rowBytes(nIn);
    }

    /** Scale elements between two groups. */
    public long groupStrideScales() {
        return format.quantized() ? (long) nOut * (nIn / groupSize) : 0;
    }

    public long payloadBytes() {
        return nGroups * groupStrideBytes();
    }

    public long scaleBytes() {
        return nGroups * groupStrideScales() * 2;
    }

    /** Bytes a full pass over all groups reads. */
    public long bytes() {
        return payloadBytes() + scaleBytes();
    }

    /** Bytes of device memory a matrix of this shape takes in {@code format}. */
    public static long bytesFor(WeightFormat format, int nGroups, int nOut, int nIn, int groupSize) {
        long payload = (long) nGroups * nOut * format.rowBytes(nIn);
        long scales = format.quantized() ? (long) nGroups * nOut * (nIn / groupSize) * 2 : 0;
        return payload + scales;
    }
}
