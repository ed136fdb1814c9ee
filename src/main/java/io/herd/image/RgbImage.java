package io.herd.image;

/**
 * A decoded image: 8-bit RGB, row-major, channels interleaved ({@code rgb[(y·width + x)·3 + c]}).
 */
public record RgbImage(int width, int height, byte[] rgb) {
    public RgbImage {
        if (width <= 0 || height <= 0 || (long) width * height * 3 != rgb.length)
            throw new IllegalArgumentException("RgbImage " + width + "×" + height + " with " + rgb.length + " bytes");
    }

    /** Sample as 0…255. */
    public int get(int x, int y, int channel) {
        return rgb[(y * width + x) * 3 + channel] & 0xff;
    }
}
