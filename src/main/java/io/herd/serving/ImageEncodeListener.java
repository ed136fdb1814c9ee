package io.herd.serving;

/** Told how long the vision tower took for one request's images (for the image-encode time histogram). */
@FunctionalInterface
public interface ImageEncodeListener {
    void encoded(int tiles, long nanos);
}
