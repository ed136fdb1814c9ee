package io.herd.image;

/**
 * Bounds on the images of one request, each enforced before the work it bounds: encoded bytes before decoding,
 * pixels from the header before pixel data is decompressed, images and tiles before the vision tower runs.
 *
 * @param maxImageBytes       encoded bytes of one image
 * @param maxImagePixels      width × height of one image as its header declares it
 * @param maxImagesPerRequest images in one request
 * @param maxTilesPerRequest  tiles (grid tiles plus global tiles) over all images of one request
 */
public record ImageLimits(long maxImageBytes, long maxImagePixels, int maxImagesPerRequest, int maxTilesPerRequest) {
    /** 20 MiB, 40 megapixels, 8 images, 8 × 17 tiles (a full 16-tile grid plus its thumbnail per image). */
    public static final ImageLimits DEFAULT = new ImageLimits(20L << 20, 40_000_000L, 8, 8 * 17);

    public ImageLimits {
        if (maxImageBytes <= 0 || maxImagePixels <= 0 || maxImagesPerRequest <= 0 || maxTilesPerRequest <= 0)
            throw new IllegalArgumentException("image limits must be positive");
    }

    /** Refuses a request with more than {@link #maxImagesPerRequest} images. */
    public void checkImageCount(int nImages) {
        if (nImages > maxImagesPerRequest)
            throw new ImageRejectedException(ImageRejectedException.IMAGE_TOO_LARGE, "the request carries " + nImages
                    + " images; at most " + maxImagesPerRequest + " are allowed");
    }

    /** Refuses a request whose images need more than {@link #maxTilesPerRequest} tiles. */
    public void checkTileCount(int nTiles) {
        if (nTiles > maxTilesPerRequest)
            throw new ImageRejectedException(ImageRejectedException.IMAGE_TOO_LARGE, "the request's images need " + nTiles
                    + " tiles; at most " + maxTilesPerRequest + " are allowed");
    }
}
