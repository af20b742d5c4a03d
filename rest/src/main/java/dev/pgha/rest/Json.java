package dev.pgha.rest;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

/** JSON in and out of the API: Patroni's bodies are objects, written in the order their fields were put. */
final class Json {

    private static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private Json() {
    }

    /** The value as JSON text. */
    static String write(Object value) {
        try {
            return MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write JSON: " + e.getMessage(), e);
        }
    }

    /**
     * The body as a JSON object, or null when it is not one (not JSON, an array, a string...).
     */
    @SuppressWarnings("unchecked")
    static Map<String, Object> readObject(byte[] body) {
        try {
            Object value = MAPPER.readValue(body, Object.class);
            return value instanceof Map<?, ?> m ? new LinkedHashMap<>((Map<String, Object>) m) : null;
        } catch (IOException e) {
            return null;
        }
    }
}
