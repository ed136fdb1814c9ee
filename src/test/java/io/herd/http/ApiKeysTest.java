package io.herd.http;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ApiKeysTest {

    @Test
    void noKeysConfiguredLetsEverythingThrough() {
        for (String setting : new String[] {null, "", " , ,"}) {
            ApiKeys keys = ApiKeys.parse(setting);
            assertThat(keys.required()).isFalse();
            assertThat(keys.accepts(null)).isTrue();
        }
    }

    @Test
    void onlyABearerTokenThatIsOneOfTheKeysIsAccepted() {
        ApiKeys keys = ApiKeys.parse(" alpha-1 ,beta-2,,");
        assertThat(keys.required()).isTrue();
        assertThat(keys.accepts("Bearer alpha-1")).isTrue();
        assertThat(keys.accepts("Bearer beta-2")).isTrue();
        assertThat(keys.accepts("bearer beta-2")).as("the scheme is case-insensitive").isTrue();
        assertThat(keys.accepts(null)).isFalse();
        assertThat(keys.accepts("")).isFalse();
        assertThat(keys.accepts("Bearer ")).isFalse();
        assertThat(keys.accepts("alpha-1")).as("no scheme").isFalse();
        assertThat(keys.accepts("Basic alpha-1")).isFalse();
        assertThat(keys.accepts("Bearer alpha-")).as("a prefix of a key").isFalse();
        assertThat(keys.accepts("Bearer alpha-12")).isFalse();
        assertThat(keys.accepts("Bearer alpha-1,beta-2")).as("the setting itself").isFalse();
    }

    @Test
    void keysNeverShowInItsText() {
        assertThat(ApiKeys.parse("secret-one,secret-two").toString()).doesNotContain("secret").contains("2");
    }
}
