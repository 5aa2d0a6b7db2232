import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

/**
 * DynamoDB Local bound to 127.0.0.1: its own runner listens on every interface.
 *
 * <p>As a program it takes DynamoDB Local's arguments ({@code -port 0} picks a free port) and prints
 * the port it listens on. As a Java agent ({@code -javaagent:}, which is how LocalStack starts
 * DynamoDB Local, with {@code -jar DynamoDBLocal.jar}) it serves from {@code premain} with the
 * program's arguments, so the jar's own main, which would bind every interface, never runs.
 */
public final class LoopbackDynamoDBLocal {
    public static void main(String[] args) throws Exception {
        serve(args);
    }

    public static void premain(String agentArguments) throws Exception {
        String command = System.getProperty("sun.java.command", "");
        String[] words = command.trim().split("\\s+");
        String[] args = new String[Math.max(0, words.length - 1)];
        System.arraycopy(words, 1, args, 0, args.length); // words[0] is the jar or main class
        serve(args);
    }

    private static void serve(String[] args) throws Exception {
        boolean anyPort = false;
        for (int i = 0; i + 1 < args.length; i++) {
            if (args[i].equals("-port") && args[i + 1].equals("0")) {
                args[i + 1] = "8000"; // DynamoDB Local refuses 0; the connector is given 0 below
                anyPort = true;
            }
        }
        DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
        Field field = DynamoDBProxyServer.class.getDeclaredField("server");
        field.setAccessible(true);
        Server server = (Server) field.get(proxy);
        for (Connector connector : server.getConnectors()) {
            ((ServerConnector) connector).setHost("127.0.0.1");
            if (anyPort) {
                ((ServerConnector) connector).setPort(0);
            }
        }
        proxy.start();
        for (Connector connector : server.getConnectors()) {
            System.out.println("listening on 127.0.0.1:" + ((ServerConnector) connector).getLocalPort());
        }
        System.out.flush();
        proxy.join();
    }
}
