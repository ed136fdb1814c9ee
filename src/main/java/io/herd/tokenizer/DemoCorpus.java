package io.herd.tokenizer;

/**
 * The English text the demo tokenizer learns its merges from: hand-written sentences about Herd and everyday
 * things, plus sentences generated from fixed word lists and numbers so that common words, digits and punctuation
 * each get tokens. Changing this text changes the demo tokenizer (and with it the demo model's token ids).
 */
final class DemoCorpus {
    private DemoCorpus() {}

    private static final String PROSE = """
            Herd is a small service that answers questions. It reads requests from Kafka, runs a language model,
            and writes the answer back one token at a time. A request names a prompt, how many tokens to write,
            and how to choose each next token. The answer streams out while the model is still thinking.

            The model is a mixture of experts. Every layer has a router that looks at each token and sends it to
            the expert that suits it best, and a shared expert that sees every token. Attention looks back at the
            tokens that came before; some layers only look at the current chunk, others look at everything.

            Hello! How are you today? I am fine, thank you. What would you like to know? Tell me about llamas.
            Llamas are calm animals from South America. They live in herds, carry loads in the mountains, and
            hum when they are curious. A young llama is called a cria. Llamas eat grass and hay, and they drink
            clean water every day. People keep them for their soft wool and as friendly guards for sheep.

            You are a helpful assistant. Answer the question in one short sentence. If you do not know the answer,
            say so. Please write a poem about the sea. The waves roll in, the gulls cry out, the sand is warm and
            the wind is cool. Can you explain how a rainbow forms? Sunlight bends inside each raindrop and splits
            into red, orange, yellow, green, blue, indigo and violet.

            The weather tomorrow will be sunny in the morning, cloudy in the afternoon, and rainy at night.
            Bring an umbrella and a warm coat. The train leaves at half past seven from platform two. The shop
            opens at nine and closes at six, except on Sunday, when it stays closed all day.

            To bake bread, mix flour, water, salt and yeast. Knead the dough for ten minutes, let it rise for an
            hour, shape it, and bake it in a hot oven until the crust is brown and it sounds hollow when tapped.
            Soup needs onions, carrots, celery, garlic, stock, pepper and patience. Taste it before you serve it.

            Computers store numbers as bits. A byte has eight bits. Text becomes bytes through UTF-8, and a
            tokenizer turns those bytes into numbers that the model understands. The model turns numbers back into
            text. A good tokenizer keeps common words whole and splits rare words into smaller pieces.

            Once upon a time, a little llama named Pixel lived on a green hill near a quiet village. Every morning
            she walked to the river, looked at the clouds, and counted the birds. One day she found a lost lamb and
            led it home before sunset. The villagers cheered, and Pixel felt proud and happy.

            Questions and answers: What is the capital of France? Paris. What is two plus two? Four. Who wrote this
            program? A team of engineers. Why is the sky blue? Because air scatters blue light more than red light.
            Where do penguins live? Mostly in the southern half of the world. When does spring begin? In March.

            The library keeps thousands of books about history, geography, chemistry, physics, biology, music,
            philosophy, mathematics, economics, medicine, architecture and poetry. Students borrow them, return
            them late, and apologise politely. The librarian smiles, stamps the card, and recommends another novel.

            Good morning, everyone. Today we will discuss elephants, giraffes, zebras, lions, tigers, wolves,
            foxes, rabbits, squirrels, owls, eagles, dolphins, whales, turtles, frogs, butterflies and bees. Each
            creature has adapted to its environment: thick fur against freezing winters, long necks for reaching
            leaves, sharp eyesight for hunting, and clever tricks for avoiding danger.

            Remember to save your work often. Restart the computer if the screen freezes, check the cables, update
            the software, and ask for help when something seems broken. Errors happen; patience and curiosity solve
            most of them. Logs, metrics and traces describe what the system did and why it was slow.

            Thanks for asking! Sure, here is a summary. First, gather the ingredients. Second, prepare the tools.
            Third, follow the instructions carefully. Finally, enjoy the result and share it with your family.
            Sorry, I cannot help with that request. Could you rephrase the question? Of course. Absolutely.
            """;

    private static final String[] SUBJECTS = {"The llama", "A farmer", "My friend", "The model", "Our team",
            "The teacher", "A child", "The server", "Every student", "The old man", "A scientist", "The cat",
            "The engineer", "Her brother", "The doctor", "A traveler", "The baker", "His sister", "The robot",
            "A musician", "The captain", "The queen", "A writer", "The painter", "Your neighbor"};
    private static final String[] VERBS = {"finds", "builds", "reads", "writes", "watches", "carries", "opens",
            "closes", "follows", "remembers", "forgets", "answers", "explains", "cleans", "paints", "fixes",
            "measures", "counts", "sells", "buys", "cooks", "plants", "visits", "teaches", "learns", "moves",
            "checks", "sends", "receives", "shares", "starts", "stops", "likes", "loves", "needs", "wants"};
    private static final String[] ADJECTIVES = {"small", "large", "quiet", "loud", "bright", "dark", "warm",
            "cold", "old", "new", "happy", "careful", "strange", "simple", "heavy", "light", "fast", "slow",
            "gentle", "brave", "clever", "empty", "full", "golden", "silver", "wooden", "ancient", "modern",
            "famous", "hidden", "useful", "beautiful", "important", "different", "possible", "special"};
    private static final String[] OBJECTS = {"house", "garden", "letter", "story", "bridge", "window", "mountain",
            "river", "forest", "market", "library", "kitchen", "machine", "message", "picture", "problem", "answer",
            "question", "journey", "festival", "language", "computer", "network", "station", "island", "village",
            "castle", "museum", "festival", "school", "hospital", "airport", "harbor", "desert", "valley", "ocean",
            "planet", "engine", "window", "blanket", "basket", "bottle", "candle", "mirror", "pencil", "ticket"};
    private static final String[] PLACES = {"in the morning", "at night", "after lunch", "before dinner",
            "on Monday", "on Tuesday", "on Wednesday", "on Thursday", "on Friday", "on Saturday", "on Sunday",
            "in January", "in February", "in April", "in May", "in June", "in July", "in August", "in September",
            "in October", "in November", "in December", "every week", "near the lake", "under the bridge",
            "behind the school", "across the street", "inside the station", "during the storm", "without a word"};

    /** The whole corpus; built the same way on every call. */
    static String text() {
        StringBuilder sb = new StringBuilder(PROSE);
        // A fixed linear congruential walk through the word lists: deterministic, varied, no java.util.Random
        // (whose algorithm is not part of this file's contract).
        long state = 20250405L;
        for (int i = 0; i < 6000; i++) {
            state = state * 6364136223846793005L + 1442695040888963407L;
            int r = (int) (state >>> 33);
            String subject = SUBJECTS[Math.floorMod(r, SUBJECTS.length)];
            String verb = VERBS[Math.floorMod(r >>> 5, VERBS.length)];
            String adjective = ADJECTIVES[Math.floorMod(r >>> 11, ADJECTIVES.length)];
            String object = OBJECTS[Math.floorMod(r >>> 17, OBJECTS.length)];
            String place = PLACES[Math.floorMod(r >>> 23, PLACES.length)];
            int number = Math.floorMod(r * 31 + i, 2000);
            switch (i % 5) {
                case 0 -> sb.append(subject).append(' ').append(verb).append(" the ").append(adjective).append(' ')
                        .append(object).append(' ').append(place).append(". ");
                case 1 -> sb.append("Does ").append(subject.toLowerCase(java.util.Locale.ROOT)).append(" see the ")
                        .append(object).append("? Yes, ").append(number).append(" times. ");
                case 2 -> sb.append(subject).append(" counted ").append(number).append(' ').append(adjective)
                        .append(' ').append(object).append("s, then ").append(number / 7).append(" more.\n");
                case 3 -> sb.append("\"").append(Character.toUpperCase(adjective.charAt(0)))
                        .append(adjective.substring(1)).append(' ').append(object).append("!\" said ")
                        .append(subject.toLowerCase(java.util.Locale.ROOT)).append(", ").append(place).append(". ");
                default -> sb.append("Step ").append(i).append(": ").append(verb).append(" (").append(number)
                        .append(" / ").append(i % 97).append(") = ").append(number % 13).append("; ")
                        .append(object.toUpperCase(java.util.Locale.ROOT)).append(".\n");
            }
        }
        return sb.toString();
    }
}
