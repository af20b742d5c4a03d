package dev.pgha.dcs.values;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.math.BigInteger;
import java.util.Locale;
import java.util.Map;

/**
 * The JSON plumbing shared by the codecs: one Jackson mapper that writes compact JSON as Patroni
 * does ({@code {"a":1,"b":"x"}}, no spaces) and lenient accessors that return null instead of
 * throwing when a value has an unexpected type.
 */
final class Json {

    static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(DeserializationFeature.USE_LONG_FOR_INTS)
            .disable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private Json() {
    }

    /** Compact JSON of a map, list or scalar. */
    static String write(Object value) {
        try {
            return MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("value cannot be written as JSON: " + e.getOriginalMessage(), e);
        }
    }

    /** The parsed tree, or null when the text is not JSON (or is empty). */
    static JsonNode parse(String text) {
        if (text == null || text.isBlank()) {
            return null;
        }
        try {
            return MAPPER.readTree(text);
        } catch (JsonProcessingException e) {
            return null;
        }
    }

    /** The node as a plain Java map (nested maps, lists, Long, Double, String, Boolean, null). */
    @SuppressWarnings("unchecked")
    static Map<String, Object> toMap(JsonNode object) {
        return MAPPER.convertValue(object, Map.class);
    }

    /** A text field, or null when absent or not a string. */
    static String text(JsonNode object, String field) {
        JsonNode n = object.get(field);
        return n != null && n.isTextual() ? n.textValue() : null;
    }

    /** An integral field (a JSON integer or a string of digits), or null. */
    static Long number(JsonNode object, String field) {
        return number(object.get(field));
    }

    /** An integral value (a JSON integer that fits a long, or a string of digits), or null. */
    static Long number(JsonNode n) {
        if (n == null) {
            return null;
        }
        if (n.isIntegralNumber()) {
            return n.canConvertToLong() ? n.longValue() : null;
        }
        if (n.isTextual()) {
            String s = n.textValue().trim();
            if (s.matches("-?\\d{1,19}")) {
                BigInteger b = new BigInteger(s);
                return b.bitLength() < 64 ? b.longValue() : null;
            }
        }
        return null;
    }

    /**
     * A boolean field: JSON {@code true}/{@code false}, or the strings Patroni's configuration
     * accepts ({@code "true"}, {@code "on"}, {@code "yes"}, {@code "1"} and their opposites); null
     * otherwise.
     */
    static Boolean bool(JsonNode n) {
        if (n == null) {
            return null;
        }
        if (n.isBoolean()) {
            return n.booleanValue();
        }
        if (n.isIntegralNumber()) {
            return n.longValue() != 0;
        }
        if (n.isTextual()) {
            switch (n.textValue().trim().toLowerCase(Locale.ROOT)) {
                case "true", "on", "yes", "1" -> {
                    return true;
                }
                case "false", "off", "no", "0" -> {
                    return false;
                }
                default -> {
                    return null;
                }
            }
        }
        return null;
    }

    /** The value as a string: a JSON string's text, otherwise the JSON form. */
    static String asString(JsonNode n) {
        return n.isTextual() ? n.textValue() : n.toString();
    }
}
