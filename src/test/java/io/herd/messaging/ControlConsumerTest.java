package io.herd.messaging;

import com.fasterxml.jackson.core.JsonProcessingException;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ControlConsumerTest {

    @Test
    void readsTheIdOfACancelWhateverTheFieldOrderAndExtraFields() throws Exception {
        assertThat(ControlConsumer.cancelledId("{\"type\":\"cancel\",\"id\":\"r-1\"}")).isEqualTo("r-1");
        assertThat(ControlConsumer.cancelledId("{\"id\":\"r-2\",\"reason\":{\"by\":[1,2]},\"type\":\"cancel\"}"))
                .isEqualTo("r-2");
    }

    @Test
    void ignoresAnythingThatIsNotACancelWithAnId() throws Exception {
        assertThat(ControlConsumer.cancelledId("{\"type\":\"pause\",\"id\":\"r-1\"}")).isNull();
        assertThat(ControlConsumer.cancelledId("{\"type\":\"cancel\"}")).isNull();
        assertThat(ControlConsumer.cancelledId("{\"type\":\"cancel\",\"id\":\"\"}")).isNull();
        assertThat(ControlConsumer.cancelledId("{\"type\":\"cancel\",\"id\":7}")).isNull();
        assertThat(ControlConsumer.cancelledId("{\"type\":\"cancel\",\"id\":{\"id\":\"nested\"}}")).isNull();
        assertThat(ControlConsumer.cancelledId("[\"cancel\",\"r-1\"]")).isNull();
        assertThat(ControlConsumer.cancelledId(null)).isNull();
    }

    @Test
    void malformedJsonIsAnError() {
        assertThatThrownBy(() -> ControlConsumer.cancelledId("{\"type\":\"cancel\",\"id\":\"r-1\"")).isInstanceOf(JsonProcessingException.class);
    }
}
