<?php
/**
 * `wp goalpost status|test-event|flush`.
 *
 * @package Goalpost
 */

namespace Goalpost;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Shows and drives Goalpost's delivery from WP-CLI. Each subcommand is a thin wrapper around a
 * method that returns what it found, so its output and exit status come from one place.
 */
final class Command {

	/**
	 * Sends, flushes and reports.
	 *
	 * @var Delivery
	 */
	private $delivery;

	/**
	 * @param Delivery $delivery Sends, flushes and reports.
	 */
	public function __construct( Delivery $delivery ) {
		$this->delivery = $delivery;
	}

	/**
	 * Shows the configuration (the key masked), the last answer and the queue.
	 *
	 * ## EXAMPLES
	 *
	 *     wp goalpost status
	 *
	 * @param array $args       Unused.
	 * @param array $assoc_args Unused.
	 */
	public function status( $args, $assoc_args ): void { // phpcs:ignore Generic.CodeAnalysis.UnusedFunctionParameter.Found
		foreach ( $this->status_lines() as $line ) {
			\WP_CLI::log( $line );
		}
	}

	/**
	 * Sends a test event and prints the server's answer.
	 *
	 * ## EXAMPLES
	 *
	 *     wp goalpost test-event
	 *
	 * @subcommand test-event
	 *
	 * @param array $args       Unused.
	 * @param array $assoc_args Unused.
	 */
	public function test_event_command( $args, $assoc_args ): void { // phpcs:ignore Generic.CodeAnalysis.UnusedFunctionParameter.Found
		$answer = $this->send_test_event();
		if ( 'sent' === $answer['result'] ) {
			\WP_CLI::success( Settings::describe( $answer ) );
		} else {
			\WP_CLI::error( Settings::describe( $answer ) );
		}
	}

	/**
	 * Sends every queued event now, due or not. Exits 0 when all were delivered.
	 *
	 * ## EXAMPLES
	 *
	 *     wp goalpost flush
	 *
	 * @param array $args       Unused.
	 * @param array $assoc_args Unused.
	 */
	public function flush( $args, $assoc_args ): void { // phpcs:ignore Generic.CodeAnalysis.UnusedFunctionParameter.Found
		list( $code, $message ) = $this->flush_queue();
		if ( 0 === $code ) {
			\WP_CLI::success( $message );
		} else {
			\WP_CLI::error( $message, $code );
		}
	}

	/**
	 * What `status` prints.
	 *
	 * @return string[]
	 */
	public function status_lines(): array {
		$status = $this->delivery->status();
		return array(
			'url: ' . Config::url(),
			'site: ' . Config::site(),
			'api key: ' . ( '' === Config::api_key() ? '(none)' : Config::mask( Config::api_key() ) ),
			'track admins: ' . ( Config::track_admins() ? 'yes' : 'no' ),
			'ip header: ' . Config::ip_header(),
			'last answer: ' . ( $status['last'] ? Settings::describe( $status['last'] ) : '(none)' ),
			'last refused: ' . ( $status['rejected'] ? Settings::describe( $status['rejected'] ) : '(none)' ),
			'queued: ' . count( $this->delivery->queue() ),
			'dropped: ' . $status['dropped'],
		);
	}

	/**
	 * What `test-event` sends, and the server's answer.
	 *
	 * @return array{result:string, code:int, message:string}
	 */
	public function send_test_event(): array {
		return $this->delivery->send_now( self::test_event() );
	}

	/**
	 * What `flush` does: its exit status and message.
	 *
	 * @return array{0:int, 1:string}
	 */
	public function flush_queue(): array {
		$counts  = $this->delivery->flush();
		$message = sprintf( 'delivered %d, refused %d, still queued %d', $counts['delivered'], $counts['rejected'], $counts['queued'] );
		return array( ( 0 === $counts['queued'] && 0 === $counts['rejected'] ) ? 0 : 1, $message );
	}

	/**
	 * The test event: a custom event that matches nothing unless a goal asks for it.
	 */
	public static function test_event(): array {
		return Delivery::event(
			array(
				'type' => 'custom',
				'name' => 'Goalpost test event',
				'url'  => home_url( '/' ),
			)
		);
	}
}
